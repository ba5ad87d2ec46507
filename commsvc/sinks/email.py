"""An SMTP server (aiosmtpd) that keeps every message it accepts.

Recipients can be told to answer with an SMTP code (`reject`), or their message's
data (`reject_data`), to test how the sender treats 4xx and 5xx replies. For fault
tests it can also be slow (`delay` per message) and drop the connection instead of
answering DATA (`drop_next`: how many times), keeping nothing for a dropped message.
Like Postfix it offers PIPELINING (RFC 2920) unless told not to (`pipelining`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

INDEX = "index.jsonl"  # beside the .eml files: file, to, subject, delivery per message


class _Handler:
    def __init__(self, sink: EmailSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.sink.pipelining:  # as Postfix does: the sender may batch its commands
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.sink.reject.get(address.lower())
        if reply:
            self.sink.refused.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        if self.sink.take_drop():
            server.transport.close()
            return "421 closing"
        refusal = next(
            (
                self.sink.reject_data[a.lower()]
                for a in envelope.rcpt_tos
                if a.lower() in self.sink.reject_data
            ),
            None,
        )
        if refusal:
            return refusal
        self.sink.keep(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


class EmailSink:
    def __init__(self, port: int, folder: Path | None = None) -> None:
        self.port = port
        self.folder = folder
        self.reject: dict[str, str] = {}  # address -> reply such as "550 No such user"
        self.reject_data: dict[str, str] = {}  # address -> reply to the data, "554 Refused"
        self.delay = 0.0  # seconds to wait before accepting each message
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refused: list[str] = []  # every refused recipient, once per attempt
        self.drop_next = 0
        self.pipelining = True
        self._lock = threading.Lock()
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=port,
            data_size_limit=10 * 1024 * 1024,
            enable_SMTPUTF8=True,
        )
        if folder:
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> EmailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def keep(self, sender: str, recipients: list[str], content: bytes) -> None:
        with self._lock:
            self.messages.append((sender, recipients, content))
            number = len(self.messages)
            if self.folder:
                name = f"{number:07d}.eml"
                (self.folder / name).write_bytes(content)
                # One line per message, so the outbox lists and searches without
                # opening every file.
                headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
                entry = {
                    "file": name,
                    "to": str(headers["To"] or ""),
                    "subject": str(headers["Subject"] or ""),
                    "delivery": str(headers["X-Commsvc-Delivery"] or ""),
                }
                with open(self.folder / INDEX, "a", encoding="utf-8") as index:
                    index.write(json.dumps(entry) + "\n")

    def take_drop(self) -> bool:
        with self._lock:
            if self.drop_next > 0:
                self.drop_next -= 1
                return True
            return False

    def parsed(self) -> list[EmailMessage]:
        with self._lock:
            contents = [content for _s, _r, content in self.messages]
        return [message_from_bytes(c, policy=policy.default) for c in contents]
