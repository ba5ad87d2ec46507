"""`commsvc bounce-server`: the SMTP server the bounce domain's MX points at (aiosmtpd).

It accepts mail only for VERP addresses whose MAC checks and for `fbl@` and `abuse@`
the bounce domain; every other recipient gets 550 at RCPT, before any data, so a
forged address changes nothing and costs nothing. Each accepted message is processed
inline, in a thread beside the SMTP loop (`services/delivery/bounces.py`: a few
queries), and only then answered 250: if processing fails the answer is 451 and the
sending server tries again later, so no bounce or complaint is lost between the two.
The loop itself never waits on the database, so other sessions are answered at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from commsvc.errors import ConfigError
from commsvc.extensions import db
from commsvc.services.delivery import bounces
from commsvc.services.delivery.verp import Verp, verp_for

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class BounceHandler:
    """aiosmtpd's handler: refuse what is not ours at RCPT, process the rest at DATA."""

    def __init__(self, app: Flask, verp: Verp) -> None:
        self.app, self.verp = app, verp
        self.soft_bounce_limit = int(app.config["COMMSVC_SOFT_BOUNCE_LIMIT"])

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.verp.read(address) is None:
            return f"550 5.1.1 <{address}>: no such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients = [r for r in map(self.verp.read, envelope.rcpt_tos) if r is not None]
        loop = asyncio.get_running_loop()
        try:
            handled = await loop.run_in_executor(None, self._process, envelope.content, recipients)
        except Exception:
            log.exception("could not process a message from %s", envelope.mail_from)
            return "451 4.3.0 could not process the message now; try again later"
        log.info("%s for delivery %s", handled.kind, handled.delivery_id)
        return "250 2.0.0 OK"

    def _process(self, content: bytes, recipients: list[Any]) -> bounces.Handled:
        with self.app.app_context():
            try:
                return bounces.handle_message(
                    content, recipients, self.verp, self.soft_bounce_limit
                )
            finally:
                db.session.remove()


def handler_for(app: Flask) -> BounceHandler:
    verp = verp_for(app.config.get("COMMSVC_BOUNCE_DOMAIN"), app.config["SECRET_KEY"])
    if verp is None:
        raise ConfigError("set COMMSVC_BOUNCE_DOMAIN: the bounce server serves that domain")
    return BounceHandler(app, verp)


def serve(app: Flask, host: str, port: int) -> None:
    """Serve until SIGTERM or Ctrl-C."""
    handler = handler_for(app)
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        server_hostname=handler.verp.domain,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    controller.start()
    print(f"Bounce server for {handler.verp.domain} on {host}:{port}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        controller.stop()
