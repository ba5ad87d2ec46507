"""The spine, end to end: a real worker process, real Redis, real SMTP and SMS servers."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from commsvc.models import Member
from tests import factories

pytestmark = pytest.mark.e2e
SEND_TIMEOUT_SECONDS = 120


def wait_until_sent(client, headers, bulletin_id: int) -> dict:
    deadline = time.monotonic() + SEND_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
        if status["status"] == "sent":
            return status
        time.sleep(0.2)
    raise AssertionError(f"bulletin {bulletin_id} not sent in time: {status}")


def test_bulletin_reaches_each_member_once_per_chosen_channel(
    app, client, worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    factories.partnership("Trafford Care Trust", employers=["Trafford Council"], kind="care_trust")
    factories.topics("bargaining", "campaigns")
    rows = []
    for n in range(240):
        channels = ["email;sms", "email", "sms"][n % 3]
        rows.append(
            factories.member_row(
                first_name=f"Name{n}",
                channels=channels,
                email=f"in{n}@example.org" if "email" in channels else "",
                mobile=f"07911 {200000 + n:06d}" if "sms" in channels else "",
                employer=factories.S31_EMPLOYERS[n % 2],
                service_group=["health", "local_government"][n % 2],
            )
        )
    opted_out = [factories.member_row(topics="campaigns", channels="email;sms") for _ in range(15)]
    outside = [
        factories.member_row(employer="Trafford Council", channels="email;sms") for _ in range(20)
    ]
    report = factories.import_rows(rows + opted_out + outside)
    assert report.ok, report.errors

    headers = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=headers
    )
    assert created.status_code == 201, created.get_json()
    bulletin = created.get_json()
    assert bulletin["audience_size"] == len(rows) + len(opted_out)
    assert (
        client.post(f"/api/v1/bulletins/{bulletin['id']}/send", headers=headers).status_code == 202
    )
    status = wait_until_sent(client, headers, bulletin["id"])

    emails = email_sink.parsed()
    texts = sms_sink.messages
    expected_emails = {r["email"] for r in rows if "email" in r["channels"]}
    expected_texts = {
        Member.query.filter_by(membership_number=r["membership_number"]).one().mobile
        for r in rows
        if "sms" in r["channels"]
    }
    email_recipients = [str(m["To"]) for m in emails]
    text_recipients = [t["to"] for t in texts]
    assert sorted(email_recipients) == sorted(expected_emails)  # each exactly once
    assert sorted(text_recipients) == sorted(expected_texts)
    assert status["counts"] == {"sent": len(emails) + len(texts), "skipped": 2 * len(opted_out)}
    assert status["progress"] == 1.0

    for message in emails:
        assert_well_formed(message)
    first = next(m for m in emails if m["To"] == "in0@example.org")
    assert "Name0" in first["Subject"]
    assert "Dear Name0" in first.get_body(("plain",)).get_content()
    sms = next(t for t in texts if t["to"].endswith("200002"))
    assert sms["body"].startswith("Hi Name2, the pay offer is out.")
    assert sms["from"] == "UNION"

    # The preferences link in the email works and shows this member's page.
    link = first.get_body(("plain",)).get_content().split("Choose what you receive: ")[1].split()[0]
    page = client.get(link.replace("http://127.0.0.1:5000", ""))
    assert page.status_code == 200
    assert "Hello Name0" in page.get_data(as_text=True)


def assert_well_formed(message: EmailMessage) -> None:
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["Message-ID"]
    unsubscribe = message["List-Unsubscribe"]
    assert "<http://127.0.0.1:5000/u/" in unsubscribe and "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Commsvc-Delivery"].isdigit()
