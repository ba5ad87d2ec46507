"""What the admin says about texts before anything is sent: the line every text ends
with, who texts come from, and members whose mobile cannot receive texts."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, Member
from tests.web import test_admin_compose
from tests.web.test_admin_compose import compose

# The compose tests' partnership of two members (Hana and Lee), logged in as its organiser.
setup = pytest.fixture(test_admin_compose.setup.__wrapped__, name="setup")


def test_the_compose_page_says_texts_end_with_the_members_link_when_nobody_can_reply(
    app,
    setup,
    client,
):
    app.config["COMMSVC_SMS_REPLY_FROM"] = ""
    page = client.get(f"/admin/partnerships/{setup.id}/compose").get_data(as_text=True)
    assert "Members cannot reply to UNION, so every text ends" in page
    assert "Reply STOP" not in page


def test_with_a_reply_number_the_check_page_shows_texts_from_it_ending_reply_stop(
    app,
    setup,
    client,
):
    app.config["COMMSVC_SMS_REPLY_FROM"] = "+447911000999"
    compose_page = client.get(f"/admin/partnerships/{setup.id}/compose").get_data(as_text=True)
    assert "Texts go from +447911000999 and end &#34;Reply STOP to opt out&#34;." in compose_page
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "From +447911000999" in page
    assert "Hi Lee, vote by Friday\nReply STOP to opt out" in page


def test_a_stored_landline_is_counted_on_the_check_and_confirmation_pages(
    app,
    setup,
    client,
):
    lee = db.session.query(Member).filter_by(first_name="Lee").one()
    lee.mobile = "+442079460018"  # stored before the import refused landlines
    db.session.commit()
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    check = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    said = "1 member has a mobile number that cannot receive texts"
    assert said in check
    confirm = client.get(f"/admin/bulletins/{bulletin.id}/confirm").get_data(as_text=True)
    assert "Send 2 emails and 1 text message to 2 members of" in confirm
    assert said in confirm
