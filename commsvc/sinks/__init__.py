"""Local capture sinks: a real SMTP server and a real HTTP SMS gateway on loopback.

`commsvc demo` runs them so a person can see what members received; the tests run
them as the real peers of the sending path. They keep what they receive in memory
and, when given a folder, on disk for the admin's outbox page.
"""
