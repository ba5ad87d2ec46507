"""The demo's outbox: what the capture sinks kept, searched and paged from their index,
each email shown as the member sees it, with a link to its bulletin."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from commsvc import embedded_redis
from commsvc.services.accounts import actors, auth
from commsvc.services.delivery import capture
from commsvc.sinks.email import EmailSink
from tests.web.test_admin_pages import log_in


@pytest.fixture
def captured(app, tmp_path):
    sink = EmailSink(embedded_redis.free_port(), tmp_path / "email").start()
    app.config["COMMSVC_CAPTURE_DIR"] = str(tmp_path)
    try:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            for n in range(30):
                message = EmailMessage()
                message["From"] = "bulletins@localhost"
                message["To"] = f"member{n}@example.org"
                message["Subject"] = f"Pay offer {n}" if n != 7 else "Ballot notice"
                message.set_content(f"Dear member {n}")
                message.add_alternative(f"<p>Dear <strong>member {n}</strong></p>", subtype="html")
                smtp.send_message(message)
    finally:
        sink.stop()
    return tmp_path


def test_outbox_lists_newest_first_in_pages_and_searches(captured, client):
    auth.create_user("organiser@union.example", "a long enough password", "admin", [])
    log_in(client)
    first = client.get("/admin/outbox").get_data(as_text=True)
    assert "Emails (30)" in first and "Pay offer 29" in first and "Pay offer 4" not in first
    assert "Page 1 of 2" in first
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "Pay offer 4" in second and "Pay offer 29" not in second
    found = client.get("/admin/outbox?q=ballot").get_data(as_text=True)
    assert "Emails (1)" in found and "member7@example.org" in found


def test_an_email_is_shown_rendered_in_a_locked_frame(captured, client):
    auth.create_user("organiser@union.example", "a long enough password", "admin", [])
    log_in(client)
    name = capture.emails_page(actors.SYSTEM, "member3@").items[0]["file"]
    page = client.get(f"/admin/outbox/{name}").get_data(as_text=True)
    assert "Pay offer 3" in page and f"/admin/outbox/{name}/email.html" in page
    frame = client.get(f"/admin/outbox/{name}/email.html")
    assert "<strong>member 3</strong>" in frame.get_data(as_text=True)
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]
    assert client.get("/admin/outbox/../../etc/passwd").status_code == 404
    assert client.get("/admin/outbox/0000999.eml").status_code == 404
