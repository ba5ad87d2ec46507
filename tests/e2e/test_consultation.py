"""A consultation end to end: a real worker sends the question by email and SMS (the
sinks capture both), members answer by link and by signed SMS reply, an organiser
reads the results, closes the question and reminds those who have not answered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from commsvc.extensions import db
from commsvc.models import Member
from commsvc.web.webhooks import sign
from tests import factories
from tests.conftest import start_worker, stop_process
from tests.e2e.test_send_bulletin import wait_until_sent
from tests.web.admin_session import csrf

pytestmark = pytest.mark.e2e
REPLY_NUMBER = "+447700900999"


@pytest.fixture
def reply_worker(env: dict[str, str], app) -> Iterator[object]:
    """A real worker whose texts go from a number members can reply to."""
    process = start_worker({**env, "COMMSVC_SMS_REPLY_FROM": REPLY_NUMBER})
    yield process
    stop_process(process)


def inbound(client, number: str, body: str, secret: str | None = None):
    raw = json.dumps({"from": number, "body": body}).encode()
    signature = sign(secret or "test-webhook-secret", raw)
    return client.post(
        "/webhooks/sms/inbound",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature": signature},
    )


def results(client, headers, bulletin_id):
    answer = client.get(f"/api/v1/bulletins/{bulletin_id}/results", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_members_answer_by_link_and_sms_and_only_what_counts_is_counted(
    app, client, reply_worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    rows = [
        factories.member_row(
            first_name=f"Voter{n}",
            email=f"voter{n}@example.org",
            mobile=f"07911 {250100 + n:06d}",
            channels="email" if n < 6 else "sms",
            service_group="health" if n % 2 else "local_government",
            employer=factories.S31_EMPLOYERS[n % 2],
        )
        for n in range(12)
    ]
    assert factories.import_rows(rows).ok
    headers = factories.api_key()
    body = factories.bulletin_body(
        partnership.id, channels=["email", "sms"], question=factories.question()
    )
    created = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    bulletin_id = created.get_json()["id"]
    assert created.get_json()["question"]["choices"] == ["Accept", "Reject"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    wait_until_sent(client, headers, bulletin_id)

    # Email: a link per choice, named by it. Opening one records nothing.
    email = next(m for m in email_sink.parsed() if m["To"] == "voter0@example.org")
    text = email.get_body(("plain",)).get_content()
    accept = text.split("\nAccept: ")[1].split()[0].replace("http://127.0.0.1:5000", "")
    reject = text.split("\nReject: ")[1].split()[0].replace("http://127.0.0.1:5000", "")
    page = client.get(accept)
    assert page.status_code == 200 and 'value="0" checked' in page.get_data(as_text=True)
    client.get(reject)
    assert results(client, headers, bulletin_id)["responded"] == 0

    # Pressing the button records; changing the answer replaces it.
    token = csrf(page.get_data(as_text=True))
    assert client.post(accept, data={"csrf_token": token, "choice": "0"}).status_code == 200
    assert client.post(reject, data={"csrf_token": token, "choice": "1"}).status_code == 200
    counted = results(client, headers, bulletin_id)
    assert counted["responded"] == 1 and counted["choices"] == {"Accept": 0, "Reject": 1}
    assert counted["eligible"] == 12

    # SMS: from the reply number, ending with how to reply.
    texts = {t["to"]: t for t in sms_sink.messages}
    assert len(texts) == 6
    assert {t["from"] for t in texts.values()} == {REPLY_NUMBER}
    assert all(
        t["body"].endswith("Reply 1 for Accept, 2 for Reject\nReply STOP to opt out")
        for t in texts.values()
    )
    assert inbound(client, "07911 250106", "1").get_json()["action"] == "answer"
    assert inbound(client, "447911250107", " reject ").get_json()["action"] == "answer"
    assert inbound(client, "+447911250108", "2").get_json()["action"] == "answer"
    assert inbound(client, "+447911250108", "1").get_json()["action"] == "answer"  # a change
    forged = inbound(client, "+447911250109", "1", secret="not-the-secret")
    assert forged.status_code == 401
    assert inbound(client, "+447911250110", "STOP").get_json()["action"] == "stop"
    assert inbound(client, "+447911250111", "maybe").get_json()["action"] is None
    counted = results(client, headers, bulletin_id)
    assert counted["responded"] == 4
    assert counted["choices"] == {"Accept": 2, "Reject": 2}
    assert counted["turnout"] == round(4 / 12, 4)
    # Every breakdown cell here has 1 to 4 answers (or its partner does): all hidden.
    for table in (counted["by_service_group"], counted["by_employer"]):
        assert all(n is None or n == 0 for cells in table.values() for n in cells.values())

    # The reminder reaches exactly those who got the question and have not answered.
    reminder = factories.bulletin_body(
        partnership.id,
        title="Reminder: have your say",
        channels=["email", "sms"],
        audience={"not_answered": bulletin_id},
    )
    made = client.post("/api/v1/bulletins", json=reminder, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["audience_size"] == 8
    email_sink.messages.clear()
    sms_sink.messages.clear()
    reminder_id = made.get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{reminder_id}/send", headers=headers).status_code == 202
    wait_until_sent(client, headers, reminder_id)
    answered = {"voter0@example.org", "+447911250106", "+447911250107", "+447911250108"}
    expected = {r["email"] for r in rows[:6]} | {
        db.session.query(Member).filter_by(membership_number=r["membership_number"]).one().mobile
        for r in rows[6:]
    }
    # The member who sent STOP is still in the audience, but gets no text.
    stopped = "+447911250110"
    got = {str(m["To"]) for m in email_sink.parsed()} | {t["to"] for t in sms_sink.messages}
    assert got == expected - answered - {stopped}

    # Closing early: later answers, by link or by text, are not counted.
    closed = client.post(f"/api/v1/bulletins/{bulletin_id}/close-question", headers=headers)
    assert closed.status_code == 200 and closed.get_json()["open"] is False
    late = client.post(accept, data={"csrf_token": token, "choice": "0"})
    assert late.status_code == 409 and "closed" in late.get_data(as_text=True)
    assert inbound(client, "+447911250111", "1").get_json()["action"] is None
    final = results(client, headers, bulletin_id)
    assert final["responded"] == 4 and final["open"] is False
    assert final["choices"] == {"Accept": 2, "Reject": 2}
