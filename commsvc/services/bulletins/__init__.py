"""The bulletins wing: what an organiser writes and to whom it goes.

composing (create, read, warnings), lifecycle (the status moves), templates (saved
message templates), sandbox and rendering (the member's message from a template),
email_message (the email's bytes), sms_segments, links (signed member links),
audience and audience_preview (who gets it), preview, reports.
"""
