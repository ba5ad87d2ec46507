"""Cancelling a scheduled send (or a bulletin, or resuming one) asks first: a page that
says exactly what will happen, in numbers and UK time, and a POST with CSRF from it."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Bulletin
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, csrf, log_in

ORGANISER = "organiser@union.example"
WINTER_MORNING = "2099-12-01T09:00:00Z"  # 9am GMT
SUMMER_MORNING = "2099-07-01T08:00:00Z"  # 9am BST


def _scheduled(client, when: str, members: int = 3) -> int:
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(channels="email") for _ in range(members)])
    headers = factories.api_key()
    body = factories.bulletin_body(partnership.id, channels=["email"], title="Pay offer")
    bulletin_id = client.post("/api/v1/bulletins", headers=headers, json=body).get_json()["id"]
    sent = client.post(
        f"/api/v1/bulletins/{bulletin_id}/send", headers=headers, json={"scheduled_for": when}
    )
    assert sent.status_code == 202, sent.get_json()
    auth.create_user(ORGANISER, PASSWORD, "organiser", [factories.REGION])
    log_in(client, ORGANISER)
    return bulletin_id


def _status(bulletin_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Bulletin, bulletin_id).status


def test_cancelling_a_scheduled_send_says_what_will_happen_and_one_click_changes_nothing(
    app, client
):
    bulletin_id = _scheduled(client, WINTER_MORNING)
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    # The bulletin page offers links to the confirmation, not buttons that act.
    assert f'href="/admin/bulletins/{bulletin_id}/unschedule/confirm"' in page
    assert f'href="/admin/bulletins/{bulletin_id}/cancel/confirm"' in page
    assert "Cancel</button>" not in page
    assert _status(bulletin_id) == "scheduled"

    confirm = client.get(f"/admin/bulletins/{bulletin_id}/unschedule/confirm")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert (
        "will not be sent to 3 members (3 emails) at 9:00am (GMT) on Tuesday 1 December 2099."
        in text
    )
    assert "It goes back to draft; you can change it and schedule it again." in text
    assert ">Cancel the scheduled send</button>" in text
    assert _status(bulletin_id) == "scheduled"  # opening the page changed nothing

    done = client.post(
        f"/admin/bulletins/{bulletin_id}/unschedule",
        data={"csrf_token": csrf(text), "status_seen": "scheduled"},
    )
    assert done.status_code == 302
    assert _status(bulletin_id) == "draft"
    assert db.session.get(Bulletin, bulletin_id).scheduled_for is None


def test_a_summer_schedule_is_stated_in_british_summer_time(app, client):
    bulletin_id = _scheduled(client, SUMMER_MORNING)
    text = client.get(f"/admin/bulletins/{bulletin_id}/cancel/confirm").get_data(as_text=True)
    assert (
        "will not be sent to 3 members (3 emails) at 9:00am (BST) on Wednesday 1 July 2099." in text
    )
    assert "It cannot be sent, changed or scheduled again." in text
    assert ">Cancel the bulletin for good</button>" in text


def test_a_cancel_without_the_confirmation_or_its_token_changes_nothing(app, client):
    bulletin_id = _scheduled(client, WINTER_MORNING)
    text = client.get(f"/admin/bulletins/{bulletin_id}/cancel/confirm").get_data(as_text=True)
    # No CSRF token: refused.
    client.post(f"/admin/bulletins/{bulletin_id}/cancel", data={"status_seen": "scheduled"})
    assert _status(bulletin_id) == "scheduled"
    # A form that did not come from the confirmation page (no status seen): refused.
    refused = client.post(f"/admin/bulletins/{bulletin_id}/cancel", data={"csrf_token": csrf(text)})
    assert refused.headers["Location"].endswith(f"/admin/bulletins/{bulletin_id}/cancel/confirm")
    assert _status(bulletin_id) == "scheduled"
    # From the page: done.
    client.post(
        f"/admin/bulletins/{bulletin_id}/cancel",
        data={"csrf_token": csrf(text), "status_seen": "scheduled"},
    )
    assert _status(bulletin_id) == "cancelled"


def test_a_confirmation_made_for_another_status_is_refused(app, client):
    bulletin_id = _scheduled(client, WINTER_MORNING)
    text = client.get(f"/admin/bulletins/{bulletin_id}/cancel/confirm").get_data(as_text=True)
    # Someone else took the schedule back meanwhile: the page described a scheduled send.
    client.post(
        f"/admin/bulletins/{bulletin_id}/unschedule",
        data={"csrf_token": csrf(text), "status_seen": "scheduled"},
    )
    page = client.post(
        f"/admin/bulletins/{bulletin_id}/cancel",
        data={"csrf_token": csrf(text), "status_seen": "scheduled"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The bulletin is now draft" in page and "Cancel this draft for good?" in page
    assert _status(bulletin_id) == "draft"


def test_the_confirmation_counts_what_a_paused_bulletin_has_left(app, client):
    bulletin = factories.sending_bulletin(4, channels="email")
    auth.create_user(ORGANISER, PASSWORD, "organiser", [factories.REGION])
    log_in(client, ORGANISER)
    page = client.get(f"/admin/bulletins/{bulletin.id}").get_data(as_text=True)
    client.post(f"/admin/bulletins/{bulletin.id}/pause", data={"csrf_token": csrf(page)})
    assert _status(bulletin.id) == "paused"  # pausing is the brake: one click
    resume = client.get(f"/admin/bulletins/{bulletin.id}/resume/confirm").get_data(as_text=True)
    assert "4 messages to 4 members not sent yet will be sent." in resume
    assert ">Resume: send 4 messages</button>" in resume
    cancel = client.get(f"/admin/bulletins/{bulletin.id}/cancel/confirm").get_data(as_text=True)
    assert "4 messages to 4 members not sent yet will not be sent." in cancel
    assert ">Do not send the remaining 4 messages</button>" in cancel
