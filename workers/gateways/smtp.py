"""SMTP: one connection for a whole batch, reconnecting once if the server drops it.

Reply codes decide the outcome per recipient: 4xx is temporary, 5xx permanent.

With PIPELINING the next message's envelope (MAIL, RCPT, DATA) goes in the same write
as this message's data, when the batch has built it already: one write and one reply
to wait for per message, on both sides, instead of two. An envelope cannot make the
server accept anything: only the data and its final dot can, and they still wait for
`ready` (the message before recorded, the claim still held). If the announced message
goes no further (withdrawn after its rate wait, throttled, the batch ends), the
connection is dropped and the server discards it; a RSET or QUIT then would be read
as its data.

Reconnecting is safe only while the server cannot have accepted the message: up to
and including the sending of the data. Once the final dot has left, the server may
accept it at any moment, so a timeout or a dropped connection while waiting for its
reply is UNCONFIRMED: the outcome is unknown, and the message is neither sent again on
a new connection nor retried later (the delivery ends `temporary_failure` with no
retry and a reason that says so; an organiser can see it and decide). That reply is
waited for as RFC 5321 4.5.3.2.6 advises, 10 minutes (COMMSVC_SMTP_DATA_TIMEOUT_SECONDS),
since a server may check a message at length before it answers; every other command
keeps the shorter CONNECT_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from urllib.parse import unquote, urlsplit

from commsvc.envelopes import EmailEnvelope
from workers.gateways.base import (
    Meanwhile,
    Outcome,
    Ready,
    Result,
    Upcoming,
    no_wait,
    nothing_upcoming,
)
from workers.gateways.smtp_replies import ReplyReader

CONNECT_TIMEOUT_SECONDS = 30
DATA_REPLY_TIMEOUT_SECONDS = 600.0  # RFC 5321 4.5.3.2.6, "DATA Termination: 10 minutes"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


class SmtpGateway:
    name = "smtp"
    overlaps = True  # see OverlappingAdapter

    def __init__(self, url: str, data_timeout: float = DATA_REPLY_TIMEOUT_SECONDS) -> None:
        self.data_timeout = data_timeout
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self._connection: smtplib.SMTP | None = None
        self._replies: ReplyReader | None = None  # the connection's, once it is set up
        # The delivery whose envelope went ahead with the last data (its replies not yet
        # read): on this connection the server waits for its data, and only for its.
        self._announced: int | None = None

    def close(self) -> None:
        if self._announced is not None:
            # The announced message never came (withdrawn, or the batch stopped): a QUIT
            # would be read as its data. Closing the connection makes the server drop it.
            self._drop()
            return
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None

    def send_one(
        self,
        envelope: EmailEnvelope,
        ready: Ready = no_wait,
        meanwhile: Meanwhile = no_wait,
        upcoming: Upcoming = nothing_upcoming,
    ) -> Result:
        if self._announced not in (None, envelope.delivery_id):
            self._drop()  # announced for a message that went no further (withdrawn, throttled)
        for attempt in (1, 2):
            try:
                connection, replies = self._connect()
                options = _options(connection, envelope)
                if options is None:
                    return Result(
                        envelope.delivery_id,
                        Outcome.PERMANENT,
                        reason="the address has non-ASCII characters and the "
                        "SMTP server does not accept SMTPUTF8",
                    )
                if connection.has_extn("pipelining"):
                    announced, self._announced = self._announced is not None, None
                    finish = _Finish(
                        self.data_timeout, ready, meanwhile, _announcement(connection, upcoming)
                    )
                    try:
                        _pipelined_send(connection, replies, envelope, options, finish, announced)
                    finally:
                        self._announced = finish.announced
                else:
                    finish = _Finish(self.data_timeout, ready, meanwhile)
                    _stepwise_send(connection, replies, envelope, options, finish)
                return Result(envelope.delivery_id, Outcome.ACCEPTED)
            except _Unconfirmed as error:
                self._drop()  # the server's state is unknown: never reuse it, never resend
                return Result(
                    envelope.delivery_id,
                    Outcome.UNCONFIRMED,
                    reason="outcome unknown: no reply from the SMTP server after the "
                    f"message was sent ({error}); not resent automatically",
                )
            except smtplib.SMTPRecipientsRefused as error:
                code, message = next(iter(error.recipients.values()))
                return _by_code(envelope.delivery_id, code, message)
            except smtplib.SMTPResponseException as error:
                if error.smtp_code == 421 and attempt == 1:  # server closing: reconnect once
                    self._drop()
                    continue
                return _by_code(envelope.delivery_id, error.smtp_code, error.smtp_error)
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._drop()
                if attempt == 2:
                    return Result(
                        envelope.delivery_id,
                        Outcome.TEMPORARY,
                        reason=f"SMTP connection failed: {error}",
                    )
            except smtplib.SMTPException as error:
                self._drop()
                return Result(envelope.delivery_id, Outcome.TEMPORARY, reason=f"SMTP: {error}")
            except BaseException:
                # `ready` failed (the last acceptance could not be recorded) mid-way through
                # a transaction: drop the connection, so the server discards this message.
                self._drop()
                raise
        return Result(envelope.delivery_id, Outcome.TEMPORARY, reason="SMTP connection failed")

    def _connect(self) -> tuple[smtplib.SMTP, ReplyReader]:
        """The connection, set up by smtplib (greeting, TLS, AUTH, EHLO), and the reader
        of the replies to what this gateway sends on it."""
        if self._connection is not None and self._replies is not None:
            return self._connection, self._replies
        if self.scheme == "smtps":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=CONNECT_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=CONNECT_TIMEOUT_SECONDS)
            if self.scheme == "smtp+starttls":
                connection.starttls(context=ssl.create_default_context())
        if self.username:
            connection.login(self.username, self.password or "")
        connection.ehlo_or_helo_if_needed()  # its extensions decide how to send
        assert connection.sock is not None  # connected, or smtplib raised
        self._connection, self._replies = connection, ReplyReader(connection.sock)
        return connection, self._replies

    def _drop(self) -> None:
        self._replies = None
        self._announced = None
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


class _Unconfirmed(Exception):
    """The data left, its reply did not come: the server may have accepted it."""


class _Finish:
    """The data and the reply to it, the one step after which a resend could duplicate.

    `ready` is called after the 354, just before the data that lets the server accept;
    `meanwhile` once the data has left, before its reply is read, for as long as
    `reply_timeout` (the final reply's own timeout, RFC 5321 4.5.3.2.6). An
    `announcement` (the next message's envelope) goes in the same write as the data;
    `announced` then names its delivery."""

    def __init__(
        self,
        reply_timeout: float,
        ready: Ready,
        meanwhile: Meanwhile,
        announcement: tuple[int, bytes] | None = None,
    ) -> None:
        self.reply_timeout = reply_timeout
        self.ready = ready
        self.meanwhile = meanwhile
        self.announcement = announcement
        self.announced: int | None = None

    def send(self, connection: smtplib.SMTP, replies: ReplyReader, data: bytes) -> None:
        self.ready()
        body = _dot_stuffed(data)
        end = b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"
        if self.announcement is None:
            connection.send(body + end)
        else:
            delivery_id, commands = self.announcement
            connection.send(body + end + commands)
            self.announced = delivery_id
        self.meanwhile()
        try:
            if connection.sock is not None:
                connection.sock.settimeout(self.reply_timeout)
            code, text = replies.read()
            if connection.sock is not None:
                connection.sock.settimeout(CONNECT_TIMEOUT_SECONDS)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise _Unconfirmed(f"{type(error).__name__}: {error}"[:200]) from error
        if code != 250:
            # The final reply ends the transaction either way; a RSET after an announced
            # envelope would be read as the announced message's data.
            if self.announced is None:
                _reset(connection, replies)
            raise smtplib.SMTPDataError(code, text)


def _stepwise_send(
    connection: smtplib.SMTP,
    replies: ReplyReader,
    envelope: EmailEnvelope,
    options: list[str],
    finish: _Finish,
) -> None:
    """MAIL, RCPT and DATA one at a time, for servers without PIPELINING; raises as
    `sendmail` does, so outcomes are decided in one place."""
    code, text = _command(connection, replies, _mail_command(envelope, options))
    if code != 250:
        _reset(connection, replies)
        raise smtplib.SMTPSenderRefused(code, text, envelope.mail_from)
    code, text = _command(connection, replies, f"RCPT TO:{_path(envelope.recipient)}")
    if code not in (250, 251):
        _reset(connection, replies)
        raise smtplib.SMTPRecipientsRefused({envelope.recipient: (code, text)})
    code, text = _command(connection, replies, "DATA")
    if code != 354:
        _reset(connection, replies)
        raise smtplib.SMTPDataError(code, text)
    finish.send(connection, replies, envelope.data)


def _pipelined_send(
    connection: smtplib.SMTP,
    replies: ReplyReader,
    envelope: EmailEnvelope,
    options: list[str],
    finish: _Finish,
    announced: bool = False,
) -> None:
    """MAIL, RCPT and DATA in one write, then the message: two round trips, not four
    (RFC 2920), and one when the envelope was `announced` with the data before it.
    Raises as `sendmail` does, so outcomes are decided in one place."""
    if not announced:
        connection.send(_envelope_commands(envelope, options))
    (mail_code, mail_text), (rcpt_code, rcpt_text), (data_code, data_text) = (
        replies.read(),
        replies.read(),
        replies.read(),
    )
    if data_code == 354:
        if mail_code == 250 and rcpt_code in (250, 251):
            finish.send(connection, replies, envelope.data)
            return
        connection.send(b".\r\n")  # a server that said 354 anyway: end the empty message
        replies.read()
    _reset(connection, replies)
    if mail_code != 250:
        raise smtplib.SMTPSenderRefused(mail_code, mail_text, envelope.mail_from)
    if rcpt_code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({envelope.recipient: (rcpt_code, rcpt_text)})
    raise smtplib.SMTPDataError(data_code, data_text)


def _options(connection: smtplib.SMTP, envelope: EmailEnvelope) -> list[str] | None:
    """MAIL's options for this recipient; None if this server cannot take the address
    (non-ASCII, and no SMTPUTF8)."""
    if envelope.recipient.isascii():
        return []
    return ["SMTPUTF8"] if connection.has_extn("smtputf8") else None


def _announcement(connection: smtplib.SMTP, upcoming: Upcoming) -> tuple[int, bytes] | None:
    """The next message's envelope, to go with this message's data, if it is built and
    this server can take it."""
    following = upcoming()
    if not isinstance(following, EmailEnvelope):
        return None
    options = _options(connection, following)
    if options is None:
        return None
    return following.delivery_id, _envelope_commands(following, options)


def _envelope_commands(envelope: EmailEnvelope, options: list[str]) -> bytes:
    mail = _mail_command(envelope, options)
    return f"{mail}\r\nRCPT TO:{_path(envelope.recipient)}\r\nDATA\r\n".encode()


def _mail_command(envelope: EmailEnvelope, options: list[str]) -> str:
    mail = f"MAIL FROM:{_path(envelope.mail_from)}"
    return f"{mail} {' '.join(options)}" if options else mail


def _command(connection: smtplib.SMTP, replies: ReplyReader, command: str) -> tuple[int, bytes]:
    connection.send(f"{command}\r\n".encode())
    return replies.read()


def _reset(connection: smtplib.SMTP, replies: ReplyReader) -> None:
    """RSET after a refusal, so the connection serves the next message (RFC 5321 4.1.1.5)."""
    _command(connection, replies, "RSET")


def _dot_stuffed(data: bytes) -> bytes:
    """Every line that starts with a dot gets one more (RFC 5321 4.5.2). Lines end in
    CRLF, so a line start is the start of the data or just after a LF: one pass of
    bytes.replace, where a multi-line regex costs ten times as much per message (and
    quoted-printable bodies often break a line just before a dot)."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _path(address: str) -> str:
    """`<address>` as smtplib.quoteaddr makes it; a plain dot-atom address (nearly all of
    them) skips its full RFC 5322 parse, which costs more than the rest of a send."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _by_code(delivery_id: int, code: int, message: bytes | str) -> Result:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    outcome = Outcome.TEMPORARY if 400 <= code < 500 else Outcome.PERMANENT
    return Result(delivery_id, outcome, reason=f"SMTP {code}: {text}"[:500])
