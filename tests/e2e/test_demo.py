"""`commsvc demo`: one command brings the system up; a bulletin sent from the admin
reaches the capture sinks; Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from commsvc.embedded_redis import free_port

pytestmark = pytest.mark.e2e
START_TIMEOUT_SECONDS = 120


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_demo_sends_from_the_admin_to_the_sinks_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMSVC_")}
    env["COMMSVC_INSTANCE_PATH"] = str(tmp_path / "instance")
    demo = subprocess.Popen(
        [sys.executable, "-m", "commsvc", "demo", "--port", str(port), "--members", "40"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C must reach it even when this run was started with SIGINT ignored (a
        # shell's `&` or nohup), which a child would otherwise inherit.
        preexec_fn=_interruptible,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and demo.stdout is not None:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/login" in text, text
        password = re.search(r"password: (\S+)", text).group(1)
        assert "(organiser, North West only)" in text and "(viewer, North West only)" in text

        base = f"http://127.0.0.1:{port}"
        browser = requests.Session()
        login = browser.get(f"{base}/login", timeout=10)
        dashboard = browser.post(
            f"{base}/login",
            timeout=10,
            data={
                "csrf_token": csrf(login.text),
                "email": "organiser@example.org",
                "password": password,
            },
        )
        compose_path = re.search(r'href="(/admin/partnerships/\d+/compose)"', dashboard.text)
        form = browser.get(base + compose_path.group(1), timeout=10)
        draft = browser.post(
            base + compose_path.group(1),
            timeout=10,
            data={
                "csrf_token": csrf(form.text),
                "title": "TUPE protection update",
                "topic": "bargaining",
                "channels": ["email", "sms"],
                "subject": "TUPE update for {{ member.first_name }}",
                "email_body": "Dear {{ member.first_name }},\n\nYour TUPE protection continues.",
                "sms_body": "Hi {{ member.first_name }}: TUPE protection continues.",
            },
        )
        bulletin_path = urlpath(draft.url).removesuffix("/preview")
        # Sending is two steps: the confirmation page states the counts, then its button.
        confirm = browser.get(f"{base}{bulletin_path}/confirm?when=now", timeout=10)
        assert re.search(r"Send \d+ emails and \d+ text messages to \d+ members of", confirm.text)
        fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', confirm.text).group(1)
        browser.post(
            f"{base}{bulletin_path}/send",
            data={"csrf_token": csrf(confirm.text), "fingerprint": fingerprint},
            timeout=10,
        )
        status = {}
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            status = browser.get(f"{base}{bulletin_path}/status.json", timeout=10).json()
            if status["status"] == "sent":
                break
            time.sleep(0.5)
        assert status["status"] == "sent", status
        captured = tmp_path / "instance" / "demo" / "captured"
        emails = list((captured / "email").glob("*.eml"))
        texts = (captured / "sms" / "sms.jsonl").read_text().splitlines()
        assert len(emails) + len(texts) == status["counts"].get("sent", 0) + status["counts"].get(
            "delivered", 0
        )
        assert emails and texts
        outbox = browser.get(f"{base}/admin/outbox", timeout=10).text
        assert "TUPE update for" in outbox
        # The bounce server runs too, and refuses what is not a VERP address.
        bounce_port = int(re.search(r"Bounces:\s+smtp://127.0.0.1:(\d+)", text).group(1))
        with smtplib.SMTP("127.0.0.1", bounce_port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.mail("")[0] == 250
            assert smtp.rcpt("postmaster@bounces.localhost")[0] == 550
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "the demo left processes running"


def urlpath(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
