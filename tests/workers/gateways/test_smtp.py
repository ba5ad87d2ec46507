"""SMTP against the aiosmtpd sink: reply codes per recipient, a dropped connection."""

from __future__ import annotations

import pytest

from workers.gateways.base import Outcome
from workers.gateways.smtp import SmtpGateway

from .test_http_email import envelope


@pytest.fixture(params=["pipelining", "one command at a time"])
def email_sink(request, email_sink):
    """Every test here runs against a server that offers PIPELINING and one that does not."""
    email_sink.pipelining = request.param == "pipelining"
    return email_sink


def test_batch_is_sent_and_each_message_accepted(email_sink):
    gateway = SmtpGateway(email_sink.url)
    results = [gateway.send_one(envelope(n, f"m{n}@example.org")) for n in range(3)]
    gateway.close()
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 3
    assert [m["To"] for m in email_sink.parsed()] == [f"m{n}@example.org" for n in range(3)]


def test_5xx_is_permanent_and_4xx_temporary_with_the_servers_reason(email_sink):
    email_sink.reject["gone@example.org"] = "550 5.1.1 No such user"
    email_sink.reject["full@example.org"] = "452 4.2.2 Mailbox full"
    gateway = SmtpGateway(email_sink.url)
    gone = gateway.send_one(envelope(1, "gone@example.org"))
    full = gateway.send_one(envelope(2, "full@example.org"))
    fine = gateway.send_one(envelope(3, "fine@example.org"))
    gateway.close()
    assert gone.outcome is Outcome.PERMANENT and "550" in (gone.reason or "")
    assert "No such user" in (gone.reason or "")
    assert full.outcome is Outcome.TEMPORARY and "452" in (full.reason or "")
    assert fine.outcome is Outcome.ACCEPTED  # the connection survives refusals
    assert [m["To"] for m in email_sink.parsed()] == ["fine@example.org"]


def test_connection_dropped_after_the_data_is_unconfirmed_and_never_resent(email_sink):
    """The sink drops the connection instead of answering the final dot: the server may
    have taken it, so the gateway must not send it again on a new connection."""
    gateway = SmtpGateway(email_sink.url)
    assert gateway.send_one(envelope(1, "a@example.org")).outcome is Outcome.ACCEPTED
    email_sink.drop_next = 1
    dropped = gateway.send_one(envelope(2, "b@example.org"))
    after = gateway.send_one(envelope(3, "c@example.org"))  # a fresh connection for the next
    gateway.close()
    assert email_sink.drop_next == 0  # the drop happened
    assert dropped.outcome is Outcome.UNCONFIRMED
    assert "not resent" in (dropped.reason or "")
    assert after.outcome is Outcome.ACCEPTED
    assert [m["To"] for m in email_sink.parsed()] == ["a@example.org", "c@example.org"]


def test_unreachable_server_is_temporary():
    from commsvc import embedded_redis

    gateway = SmtpGateway(f"smtp://127.0.0.1:{embedded_redis.free_port()}")
    result = gateway.send_one(envelope())
    assert result.outcome is Outcome.TEMPORARY and "SMTP connection failed" in (result.reason or "")


@pytest.mark.parametrize(
    "body",
    [
        b"Subject: dots\r\n\r\n.first line\r\n..two dots\r\n.\r\nlast\r\n",
        b".X-Odd: header first\r\nSubject: dots\r\n\r\n.\r\n",  # a dot on the very first line
    ],
    ids=["in-the-body", "first-line"],
)
def test_lines_starting_with_a_dot_arrive_intact(email_sink, body):
    message = envelope(1, "dots@example.org")
    gateway = SmtpGateway(email_sink.url)
    result = gateway.send_one(type(message)(1, message.sender, message.recipient, body))
    gateway.close()
    assert result.outcome is Outcome.ACCEPTED
    assert email_sink.messages[0][2].rstrip(b"\r\n") == body.rstrip(b"\r\n")


def test_nothing_is_delivered_when_the_previous_acceptance_cannot_be_recorded(email_sink):
    gateway = SmtpGateway(email_sink.url)

    def database_gone() -> None:
        raise RuntimeError("could not record the previous message as sent")

    with pytest.raises(RuntimeError):
        gateway.send_one(envelope(1, "held@example.org"), ready=database_gone)
    assert gateway.send_one(envelope(2, "next@example.org")).outcome is Outcome.ACCEPTED
    gateway.close()
    assert [m["To"] for m in email_sink.parsed()] == ["next@example.org"]


def test_multi_line_refusals_keep_their_reason_and_the_connection_goes_on(email_sink):
    email_sink.reject["gone@example.org"] = (
        "550-5.1.1 The account does not exist.\r\n550 5.1.1 Check the address for typos."
    )
    email_sink.reject["full@example.org"] = "452-4.2.2 Mailbox full.\r\n452 4.2.2 Try later."
    gateway = SmtpGateway(email_sink.url)
    results = [
        gateway.send_one(envelope(n, address))
        for n, address in enumerate(["gone@example.org", "full@example.org", "ok@example.org"])
    ]
    gateway.close()
    gone, full, fine = results
    assert gone.outcome is Outcome.PERMANENT
    assert "does not exist" in (gone.reason or "") and "typos" in (gone.reason or "")
    assert full.outcome is Outcome.TEMPORARY and "Try later" in (full.reason or "")
    assert fine.outcome is Outcome.ACCEPTED
    assert [m["To"] for m in email_sink.parsed()] == ["ok@example.org"]


def test_the_next_envelope_goes_with_the_data_and_every_message_arrives_once(email_sink):
    """Each message's envelope announced with the data before it: every message
    arrives once, to its own recipient, in order."""
    results = send_announcing(email_sink, [envelope(n, f"m{n}@example.org") for n in range(1, 5)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 4
    assert [m["To"] for m in email_sink.parsed()] == [f"m{n}@example.org" for n in range(1, 5)]
    assert [m["X-Commsvc-Delivery"] for m in email_sink.parsed()] == ["1", "2", "3", "4"]


def test_an_announced_message_that_goes_no_further_never_arrives(email_sink):
    """The envelope of 2 went ahead with 1's data, then 2 was withdrawn (an opt-out
    during its rate wait): the server never gets a message for it, not even an empty
    one, and 3 still goes; likewise when the batch ends on such a message."""
    one, two, three, four = (envelope(n, f"m{n}@example.org") for n in range(1, 5))
    gateway = SmtpGateway(email_sink.url)
    assert gateway.send_one(one, upcoming=lambda: two).outcome is Outcome.ACCEPTED
    assert gateway.send_one(three, upcoming=lambda: four).outcome is Outcome.ACCEPTED
    gateway.close()  # 4 announced, never sent
    assert [m["To"] for m in email_sink.parsed()] == ["m1@example.org", "m3@example.org"]
    assert len(email_sink.messages) == 2


def test_a_refused_message_costs_neither_the_announced_one_nor_the_connection(email_sink):
    email_sink.reject_data["m1@example.org"] = "554 5.7.1 Message refused"
    email_sink.reject_data["m2@example.org"] = "451 4.3.0 Try again later"
    one, two, three = (envelope(n, f"m{n}@example.org") for n in range(1, 4))
    results = send_announcing(email_sink, [one, two, three])
    assert [r.outcome for r in results] == [
        Outcome.PERMANENT,
        Outcome.TEMPORARY,
        Outcome.ACCEPTED,
    ]
    assert "Message refused" in (results[0].reason or "")
    assert [m["To"] for m in email_sink.parsed()] == ["m3@example.org"]


def test_a_connection_dropped_after_the_data_loses_the_announced_envelope_not_its_message(
    email_sink,
):
    """1's reply never comes (unconfirmed, never resent); 2, announced on that
    connection, goes on a new one, once."""
    one, two, three = (envelope(n, f"m{n}@example.org") for n in range(1, 4))
    gateway = SmtpGateway(email_sink.url)
    email_sink.drop_next = 1
    dropped = gateway.send_one(one, upcoming=lambda: two)
    results = [gateway.send_one(two, upcoming=lambda: three), gateway.send_one(three)]
    gateway.close()
    assert dropped.outcome is Outcome.UNCONFIRMED
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 2
    assert [m["To"] for m in email_sink.parsed()] == ["m2@example.org", "m3@example.org"]


def test_a_refused_recipient_announced_ahead_is_refused_with_the_servers_reason(email_sink):
    email_sink.reject["gone@example.org"] = "550 5.1.1 No such user"
    one, gone, three = (
        envelope(1, "m1@example.org"),
        envelope(2, "gone@example.org"),
        envelope(3, "m3@example.org"),
    )
    results = send_announcing(email_sink, [one, gone, three])
    assert [r.outcome for r in results] == [
        Outcome.ACCEPTED,
        Outcome.PERMANENT,
        Outcome.ACCEPTED,
    ]
    assert "No such user" in (results[1].reason or "")
    assert [m["To"] for m in email_sink.parsed()] == ["m1@example.org", "m3@example.org"]


def send_announcing(email_sink, messages):
    """Send each message in turn on one gateway, each announcing the one after it."""
    gateway = SmtpGateway(email_sink.url)
    following = [*messages[1:], None]
    results = [
        gateway.send_one(message, upcoming=lambda after=after: after)
        for message, after in zip(messages, following, strict=True)
    ]
    gateway.close()
    return results
