"""Links that reach a member through a real worker: a fresh preference link sent to
their own address, and a corrected address confirmed through the new address itself."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member
from commsvc.services.bulletins import links
from tests import factories

pytestmark = pytest.mark.e2e
ARRIVAL_TIMEOUT_SECONDS = 60
BASE = "http://127.0.0.1:5000"


def wait_for(found):
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("nothing arrived in time")


def csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_expired_link_gets_a_fresh_one_at_the_members_own_address(
    app, client, worker, email_sink
):
    member = factories.member(email="own@example.org")

    class Old(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 100 * 24 * 3600

    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=links.PREFERENCES_SALT, signer=Old
    ).dumps(member.public_id)
    page = client.get(f"/p/{old}").get_data(as_text=True)
    sent = client.post(f"/p/{old}/fresh", data={"csrf_token": csrf(page)})
    assert sent.status_code == 200 and "o•••@example.org" in sent.get_data(as_text=True)
    (email,) = wait_for(email_sink.parsed)
    assert str(email["To"]) == "own@example.org"
    fresh = re.search(BASE + r"(/p/\S+)", email.get_body(("plain",)).get_content()).group(1)
    opened = client.get(fresh)
    assert opened.status_code == 200 and "Choose what you receive" in opened.get_data(as_text=True)


def test_a_corrected_email_is_used_only_once_the_new_address_confirms_it(
    app, client, worker, email_sink
):
    member = factories.member(email="old@example.org")
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    assert "o•••@example.org" in page and "old@example.org" not in page
    form = {"csrf_token": csrf(page), "channel": "email", "address": "new@example.org"}
    asked = client.post(url + "/address", data=form).get_data(as_text=True)
    assert "We have sent a link to n•••@example.org" in asked
    db.session.expire_all()
    assert db.session.get(Member, member.id).email == "old@example.org"  # not yet
    (email,) = wait_for(email_sink.parsed)
    assert str(email["To"]) == "new@example.org"
    confirm = re.search(BASE + r"(/c/\S+)", email.get_body(("plain",)).get_content()).group(1)
    shown = client.get(confirm).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, member.id).email == "old@example.org"  # a GET changes nothing
    done = client.post(confirm, data={"csrf_token": csrf(shown)}).get_data(as_text=True)
    assert "we will email you at n•••@example.org" in done
    db.session.expire_all()
    assert db.session.get(Member, member.id).email == "new@example.org"
    record = db.session.query(ConsentRecord).filter_by(source="address_confirmed").one()
    assert record.change["channel"] == "email"


def test_a_bad_new_address_is_refused_and_changes_nothing(app, client):
    member = factories.member(email="old@example.org", mobile="07911 123456")
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    form = {"csrf_token": csrf(page), "channel": "sms", "address": "12"}
    refused = client.post(url + "/address", data=form)
    assert refused.status_code == 422
    assert "is not a valid phone number" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, member.id).mobile == "+447911123456"
