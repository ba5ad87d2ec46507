"""Messages as mail servers send them back: DSNs, a non-standard bounce, an ARF complaint,
an out-of-office. Each takes the original email (bytes) it answers."""

from __future__ import annotations

from email import message_from_bytes


def _headers_of(original: bytes) -> str:
    return original.split(b"\r\n\r\n", 1)[0].decode()


def postfix_dsn(original: bytes, to: str, recipient: str) -> bytes:
    """Postfix's bounce: multipart/report with a 5.1.1 delivery-status."""
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="8C1F2403A5.1700000000/mx.example.org"
Message-Id: <20261201000000.8C1F2403A5@mx.example.org>

This is a MIME-encapsulated message.

--8C1F2403A5.1700000000/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mail.example.org[192.0.2.10] said: 550 5.1.1
    <{recipient}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--8C1F2403A5.1700000000/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 8C1F2403A5
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Tue,  1 Dec 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--8C1F2403A5.1700000000/mx.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{_headers_of(original)}
--8C1F2403A5.1700000000/mx.example.org--
""".replace("\n", "\r\n").encode()


def exim_delay_dsn(original: bytes, to: str, recipient: str) -> bytes:
    """Exim's delay warning: a multipart/report with Action: delayed, Status 4.0.0."""
    return f"""Return-path: <>
From: Mail Delivery System <Mailer-Daemon@smtp.example.net>
To: {to}
Subject: Warning: message 1rAbCd-0001Xy-2Q delayed 24 hours
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=1700000000-eximdsn-1234

--1700000000-eximdsn-1234
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on smtp.example.net.

  {recipient}
    Delay reason: SMTP error from remote mail server after RCPT TO:<{recipient}>:
    452 4.2.2 Mailbox full

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.

--1700000000-eximdsn-1234
Content-type: message/delivery-status

Reporting-MTA: dns; smtp.example.net

Action: delayed
Final-Recipient: rfc822;{recipient}
Status: 4.0.0
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Will-Retry-Until: Fri, 04 Dec 2026 10:00:00 +0000

--1700000000-eximdsn-1234
Content-type: text/rfc822-headers

{_headers_of(original)}
--1700000000-eximdsn-1234--
""".replace("\n", "\r\n").encode()


def qmail_bounce(original: bytes, to: str, recipient: str) -> bytes:
    """qmail's bounce: plain text, no DSN, the kind flufl.bounce knows."""
    return f"""Return-Path: <>
From: MAILER-DAEMON@mail.example.com
To: {to}
Subject: failure notice

Hi. This is the qmail-send program at mail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{_headers_of(original)}
""".replace("\n", "\r\n").encode()


def arf_complaint_redacted(
    original: bytes, verp_sender: str, keep_delivery_header: bool = False
) -> bytes:
    """A feedback-loop report (RFC 5965) whose recipient is redacted (RFC 6590); some
    reporters also drop headers such as X-Commsvc-Delivery."""
    parsed = message_from_bytes(original)
    headers = _headers_of(original).replace(str(parsed["To"]), "redacted@example.com")
    if not keep_delivery_header:
        headers = headers.replace("X-Commsvc-Delivery", "X-Commsvc-Delivery-Removed")
    return f"""From: <staff@fbl.example.com>
To: <fbl@bounces.union.example>
Subject: FW: complaint about a message from union.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Tue, 01 Dec 2026 10:00:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <{verp_sender}>
Arrival-Date: Tue, 01 Dec 2026 10:00:00 +0000
Source-IP: 192.0.2.1
Reported-Domain: union.example
Redacted-Address: redacted@

--part1_13d.2e68ed54_boundary
Content-Type: text/rfc822-headers

{headers}
--part1_13d.2e68ed54_boundary--
""".replace("\n", "\r\n").encode()


def out_of_office(to: str, member_address: str) -> bytes:
    return f"""From: {member_address}
To: {to}
Subject: Automatic reply: Pay offer: have your say
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All

I am on annual leave until Monday. For urgent matters call the ward.
""".replace("\n", "\r\n").encode()
