"""Odd characters and numbers where a signature, an id or a page is expected get a
clear answer, never a 500 (issue 12, item 12). `str.isdigit()` takes '²', which
`int()` refuses; a signature in non-ASCII text made `compare_digest` raise.
Checked through the test client and gunicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery, Topic
from commsvc.services.accounts import auth
from commsvc.web.webhooks import sign
from tests import factories
from tests.web.admin_session import PASSWORD, csrf

SECRET = "test-webhook-secret"
ODD_NUMBERS = ["²", "١٢", "99999999999999999999999", "9" * 5000, "2147483648", "-1"]


@pytest.fixture
def sent_sms(app):
    bulletin = factories.sending_bulletin(1, channels="sms")
    delivery = db.session.get(Delivery, bulletin.deliveries_by_channel["sms"][0])
    delivery.status, delivery.provider_id = "sent", "prov-1"
    db.session.commit()
    return delivery


def status_of(delivery) -> str:
    db.session.expire_all()
    return db.session.get(Delivery, delivery.id).status


@pytest.mark.parametrize("signature", ["é" * 64, "ſ", "\u00a0" + "0" * 63])
def test_a_signature_in_odd_characters_is_a_401(via, sent_sms, signature):
    body = json.dumps({"id": "prov-1", "status": "delivered"}).encode()
    headers = {"Content-Type": "application/json", "X-Signature": signature.encode()}
    if via.client is not None:
        headers["X-Signature"] = signature
    answer = via.post("/webhooks/sms/status", body=body, headers=headers)
    assert answer.status == 401 and answer.json()["error"] == "unauthorized"
    assert status_of(sent_sms) == "sent"


@pytest.mark.parametrize("sig", ["é", "²" * 64])
def test_a_vonage_sig_in_odd_characters_is_a_401(via, sent_sms, sig):
    form = {"messageId": "prov-1", "status": "delivered", "sig": sig}
    answer = via.post("/webhooks/sms/vonage", form=form)
    assert answer.status == 401
    as_json = via.post("/webhooks/sms/vonage", json=form)
    assert as_json.status == 401
    assert status_of(sent_sms) == "sent"


@pytest.mark.parametrize("reference", ODD_NUMBERS)
def test_a_receipt_whose_reference_is_no_id_changes_nothing(via, sent_sms, reference):
    body = json.dumps({"id": "other", "reference": reference, "status": "delivered"}).encode()
    headers = {"Content-Type": "application/json", "X-Signature": sign(SECRET, body)}
    answer = via.post("/webhooks/sms/status", body=body, headers=headers)
    assert answer.status == 200 and answer.json()["changed"] is False
    assert status_of(sent_sms) == "sent"


@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_an_odd_topic_on_the_member_page_is_no_choice(via, app, value):
    factories.topics("bargaining", "campaigns")
    member = factories.member()
    path = urlsplit(factories.member_links().preferences_url(member.public_id)).path
    page = via.get(path).body.decode()
    bargaining = db.session.query(Topic).filter_by(name="bargaining").one().id
    form = {"csrf_token": csrf(page), "topic": [str(bargaining), value], "email": "on"}
    saved = via.post(path, form=form)
    assert saved.status == 200 and "Saved." in saved.body.decode()


def log_in_admin(via) -> None:
    auth.create_user("admin@union.example", PASSWORD, "admin", [])
    token = csrf(via.get("/login").body.decode())
    form = {"csrf_token": token, "email": "admin@union.example", "password": PASSWORD}
    assert via.post("/login", form=form).status == 302


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A1", "99999999999999999999999"])
def test_an_odd_template_or_page_number_on_admin_pages_is_not_a_500(via, app, value):
    partnership = factories.partnership()
    factories.topics()
    log_in_admin(via)
    compose = via.get(f"/admin/partnerships/{partnership.id}/compose?template={value}")
    assert compose.status in (200, 404)
    assert re.search(r'name="title"', compose.body.decode()) or compose.status == 404
    audit = via.get(f"/admin/audit?page={value}")
    assert audit.status == 200


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A1%D9%A2", "1" * 30, ""])
def test_an_odd_page_in_the_api_is_a_4xx(via, sent_sms, value):
    headers = factories.api_key()
    bulletin_id = sent_sms.bulletin_id
    answer = via.get(f"/api/v1/bulletins/{bulletin_id}/deliveries?page={value}", headers=headers)
    assert answer.status in (400, 422) and answer.json()["detail"]


def test_a_nul_character_is_a_400_not_a_database_error(via, app):
    """PostgreSQL cannot store NUL in text; schemathesis found the 500s this was."""
    headers = factories.api_key()
    body = {"name": "news\u0000letter", "subject": "Pay offer"}
    saved = via.post("/api/v1/templates", json=body, headers=headers)
    assert saved.status == 400 and "NUL" in saved.json()["detail"]
    assert via.get("/api/v1/templates?name=%00x", headers=headers).status == 400
    assert via.get("/api/v1/members/A%00B", headers=headers).status == 400
    listed = via.get("/api/v1/templates", headers=headers)
    assert listed.status == 200 and listed.json()["items"] == []
