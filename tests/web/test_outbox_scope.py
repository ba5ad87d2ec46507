"""The outbox (the demo's capture of what was sent) is scoped like everything else:
an organiser or viewer sees only their regions' messages; test copies and untraced
messages are for admins; an account with no regions sees none."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, log_in

YORKSHIRE = "Yorkshire"


@pytest.fixture
def captured(app, client, tmp_path):
    north = factories.partnership()
    leeds = factories.partnership(
        "Leeds Health and Care Partnership", region=YORKSHIRE, employers=["Leeds City Council"]
    )
    factories.topics()
    member = factories.member()
    admin = factories.api_key()
    ids = {}
    for name, partnership in (("north", north), ("leeds", leeds)):
        bulletin = client.post(
            "/api/v1/bulletins", headers=admin, json=factories.bulletin_body(partnership.id)
        ).get_json()
        delivery = Delivery(
            bulletin_id=bulletin["id"], member_id=member.id, channel="email", status="sent"
        )
        db.session.add(delivery)
        db.session.flush()
        ids[name] = delivery.id
    db.session.commit()
    (tmp_path / "email").mkdir()
    (tmp_path / "sms").mkdir()
    for n, (subject, reference) in enumerate(
        (("North news", ids["north"]), ("Leeds news", ids["leeds"]), ("[TEST] copy", 0))
    ):
        message = EmailMessage()
        message["To"] = "member@example.org"
        message["Subject"] = subject
        message["X-Commsvc-Delivery"] = str(reference)
        message.set_content(f"{subject} body")
        (tmp_path / "email" / f"{n:04d}.eml").write_bytes(message.as_bytes())
    with open(tmp_path / "sms" / "sms.jsonl", "w", encoding="utf-8") as handle:
        for body, reference in (("North text", ids["north"]), ("Leeds text", ids["leeds"])):
            record = {"to": "+447911100001", "body": body, "reference": str(reference)}
            handle.write(json.dumps(record) + "\n")
    app.config["COMMSVC_CAPTURE_DIR"] = str(tmp_path)
    return ids


def _outbox(client, email):
    log_in(client, email)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_an_organiser_sees_only_their_regions_messages_in_the_outbox(client, captured):
    auth.create_user("nw@union.example", PASSWORD, "organiser", factories.home_regions())
    page = _outbox(client, "nw@union.example")
    assert "North news" in page and "North text" in page
    assert "Leeds" not in page and "[TEST] copy" not in page
    assert db.session.query(Member).count() == 1


def test_an_admin_sees_every_message_and_an_account_with_no_regions_none(client, captured):
    auth.create_user("admin@union.example", PASSWORD, "admin", [])
    page = _outbox(client, "admin@union.example")
    for subject in ("North news", "Leeds news", "[TEST] copy", "North text", "Leeds text"):
        assert subject in page
    auth.create_user("nobody@union.example", PASSWORD, "viewer", [])
    page = _outbox(client, "nobody@union.example")
    assert "North" not in page and "Leeds" not in page and "No emails yet" in page
