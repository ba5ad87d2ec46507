"""The delivery wing: one row per bulletin, member and channel, and its journey.

fanout (the rows), claims (taking, releasing and recording a batch's rows),
acceptance (recording a gateway's acceptance on the hot path), receipts (what the
provider said later), sweeps (stuck and scheduled work), capture (the demo's outbox).
"""
