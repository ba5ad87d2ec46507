"""Composing in the admin: documented variables, template errors, live SMS count,
templates with versions, previews side by side, approval, schedule, test send."""

from __future__ import annotations

import re
import time

import pytest

from commsvc.extensions import db
from commsvc.models import AuditEntry, Bulletin, MessageTemplate
from commsvc.services.accounts import auth
from tests import factories
from tests.web.test_admin_pages import csrf, log_in

AUTHOR = "author@union.example"
SECOND = "second@union.example"
PASSWORD = "a long enough password"


@pytest.fixture
def setup(app, client):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows(
        [
            factories.member_row(first_name="Hana", service_group="health"),
            factories.member_row(
                first_name="Lee",
                service_group="local_government",
                employer=factories.S31_EMPLOYERS[1],
            ),
        ]
    )
    auth.create_user(AUTHOR, PASSWORD, "organiser", factories.home_regions())
    auth.create_user(SECOND, PASSWORD, "organiser", factories.home_regions())
    log_in(client, AUTHOR, PASSWORD)
    return partnership


def compose(client, partnership, **fields):
    page = client.get(f"/admin/partnerships/{partnership.id}/compose").get_data(as_text=True)
    data = {
        "csrf_token": csrf(page),
        "title": "Pay update",
        "topic": "bargaining",
        "channels": ["email", "sms"],
        "subject": "Pay news for {{ member.first_name }}",
        "email_body": "Dear {{ member.first_name }},\n\n**Vote** by Friday.",
        "sms_body": "Hi {{ member.first_name }}, vote by Friday",
    }
    data.update(fields)
    return client.post(
        f"/admin/partnerships/{partnership.id}/compose", data=data, follow_redirects=True
    )


def test_compose_page_documents_variables_and_filters_and_loads_the_counter(setup, client):
    page = client.get(f"/admin/partnerships/{setup.id}/compose").get_data(as_text=True)
    for text in (
        "member.first_name",
        "partnership.name",
        "preferences_url",
        "unsubscribe_url",
        "organiser.email",
        "bulletin.title",
        "|upper",
        "|default",
    ):
        assert text in page
    assert 'src="/static/compose.js"' in page
    assert not re.search(r"<script>(?!</script>)", page.replace("<script src", "")), "no inline JS"


def test_template_mistake_is_shown_with_its_line_and_nothing_is_saved(setup, client):
    response = compose(client, setup, email_body="Hello\n\n{{ member.salary }}")
    page = response.get_data(as_text=True)
    assert "email body, line 3: member has no attribute &#39;salary&#39;" in page
    assert db.session.query(Bulletin).count() == 0


def test_sandbox_escape_is_refused_in_the_admin(setup, client):
    page = compose(client, setup, subject="{{ ''.__class__.__mro__ }}").get_data(as_text=True)
    assert "subject, line 1" in page and "not allowed" in page
    assert db.session.query(Bulletin).count() == 0


def test_sms_count_endpoint_counts_the_rendered_text_with_the_hint(setup, client):
    page = client.get(f"/admin/partnerships/{setup.id}/compose").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf(page)}
    plain = client.post(
        "/admin/sms-count.json", json={"sms_body": "Hi {{ member.first_name }}"}, headers=headers
    ).get_json()
    assert plain["encoding"] == "GSM-7" and plain["segments"] == 1
    assert plain["text"] == "Hi Alex\nReply STOP to opt out"
    welsh = client.post(
        "/admin/sms-count.json", json={"sms_body": "Croeso! Dŵr a thŷ " * 8}, headers=headers
    ).get_json()
    assert welsh["encoding"] == "UCS-2" and welsh["segments"] == 3
    long = client.post(
        "/admin/sms-count.json", json={"sms_body": "ŵ" * 300}, headers=headers
    ).get_json()
    assert long["segments"] == 5 and "5 segments" in long["warning"]
    broken = client.post(
        "/admin/sms-count.json", json={"sms_body": "{{ nope }}"}, headers=headers
    ).get_json()
    assert "no variable called 'nope'" in broken["template_error"]
    bad = client.post("/admin/sms-count.json", json={"sms_body": 5}, headers=headers)
    assert bad.status_code == 400


def test_an_sms_over_the_hard_limit_cannot_be_saved(setup, client):
    page = compose(client, setup, sms_body="ŵ" * 700).get_data(as_text=True)
    assert "segments" in page and "the limit is 10" in page
    assert db.session.query(Bulletin).count() == 0


def test_preview_shows_a_member_of_each_service_group_on_both_channels(setup, client):
    saved = compose(client, setup).get_data(as_text=True)
    assert "Preview, approve, test or schedule" in saved
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "Pay update" in page and "audience <strong>2</strong>" in page
    assert "Health member: Hana" in page and "Local government member: Lee" in page
    assert "Pay news for Hana" in page and "Pay news for Lee" in page
    assert "Hi Lee, vote by Friday\nReply STOP to opt out" in page
    assert "GSM-7 · 1 segment" in page
    frame = client.get(f"/admin/bulletins/{bulletin.id}/preview/1/email.html")
    assert "Dear Lee" in frame.get_data(as_text=True)
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]


def test_preview_for_a_chosen_member_escapes_their_name(setup, client):
    factories.import_rows(
        [factories.member_row(membership_number="X1", first_name="<script>x</script>")]
    )
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview?member=X1").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    frame = client.get(f"/admin/bulletins/{bulletin.id}/preview/0/email.html?member=X1")
    assert "<script>" not in frame.get_data(as_text=True)
    missing = client.get(f"/admin/bulletins/{bulletin.id}/preview?member=NOPE")
    assert "There is no member NOPE" in missing.get_data(as_text=True)


def test_save_as_template_then_compose_from_it_records_the_version(setup, client):
    compose(client, setup, save_as_template="Pay round")
    compose(client, setup, save_as_template="Pay round", subject="Pay v2 {{ member.first_name }}")
    versions = db.session.query(MessageTemplate).order_by(MessageTemplate.version).all()
    assert [(t.name, t.version) for t in versions] == [("Pay round", 1), ("Pay round", 2)]
    listing = client.get("/admin/templates").get_data(as_text=True)
    assert "Pay round" in listing and "v1" in listing and "v2" in listing
    page = client.get(f"/admin/partnerships/{setup.id}/compose?template={versions[0].id}")
    assert "Pay news for {{ member.first_name }}" in page.get_data(as_text=True)
    compose(client, setup, template=str(versions[0].id), title="From the template")
    latest = db.session.query(Bulletin).order_by(Bulletin.id.desc()).first()
    assert latest.template_id == versions[0].id
    page = client.get(f"/admin/bulletins/{latest.id}/preview").get_data(as_text=True)
    assert "from template Pay round version 1" in page


def test_two_person_approval_in_the_admin(setup, client):
    setup.requires_approval = True
    db.session.commit()
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    refused = client.post(
        f"/admin/bulletins/{bulletin.id}/approve",
        data={"csrf_token": csrf(page)},
        follow_redirects=True,
    )
    assert "another organiser must approve" in refused.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(page)})
    log_in(client, SECOND, PASSWORD)
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    approved = client.post(
        f"/admin/bulletins/{bulletin.id}/approve",
        data={"csrf_token": csrf(page)},
        follow_redirects=True,
    )
    text = approved.get_data(as_text=True)
    assert "Approved." in text and f"<td>{SECOND}</td><td>draft → approved</td>" in text


def test_schedule_from_the_preview_page_shows_in_the_history(setup, client):
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    done = client.post(
        f"/admin/bulletins/{bulletin.id}/schedule",
        data={"csrf_token": csrf(page), "scheduled_for": "2099-01-05T07:00"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        "Scheduled." in done and "draft → scheduled" in done and "for 2099-01-05 07:00 UTC" in done
    )
    bad = client.post(
        f"/admin/bulletins/{bulletin.id}/schedule",
        data={"csrf_token": csrf(page), "scheduled_for": "soon"},
        follow_redirects=True,
    )
    assert "Choose a date and time" in bad.get_data(as_text=True)


@pytest.mark.e2e
def test_test_send_reaches_the_organisers_own_inbox_and_phone(
    setup, client, worker, email_sink, sms_sink
):
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    done = client.post(
        f"/admin/bulletins/{bulletin.id}/test-send",
        data={"csrf_token": csrf(page), "email": AUTHOR, "mobile": "07911 123456"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Test sent to author@union.example and +447911123456" in done, re.findall(
        r"flash[^<]*", done
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (email_sink.messages and sms_sink.messages):
        time.sleep(0.2)
    (email,) = email_sink.parsed()
    assert email["To"] == AUTHOR and email["Subject"] == "[TEST] Pay news for Hana"
    # A test copy's links and List-Unsubscribe change nobody: not Hana's working links.
    assert "/test-copy" in email["List-Unsubscribe"] and "/u/" not in email["List-Unsubscribe"]
    body = "".join(
        part.get_payload(decode=True).decode()
        for part in email.walk()
        if part.get_content_maintype() == "text"
    )
    assert "/test-copy" in body and "/p/" not in body and "/u/" not in body
    (entry,) = db.session.query(AuditEntry).filter_by(action="bulletin.test_send")
    assert entry.actor == AUTHOR and entry.target == f"bulletin {bulletin.id}"
    (text,) = sms_sink.messages
    assert text["to"] == "+447911123456" and text["body"].startswith("Hi Hana, vote by Friday")
    assert db.session.query(Bulletin).one().status == "draft"  # nothing else happened


def test_a_viewer_cannot_burn_cpu_through_the_sms_counter(app, client):
    auth.create_user("viewer@union.example", PASSWORD, "viewer", factories.home_regions())
    log_in(client, "viewer@union.example", PASSWORD)
    token = csrf(client.get("/admin").get_data(as_text=True))
    long_text = "(" + " + ".join(['"x" * 1000'] * 40) + ")"
    source = (
        "{% for c in " + long_text + " %}{% if " + long_text + " == c %}{% endif %}{% endfor %}"
    )
    assert len(source) < 1600  # within the SMS body's limit: the counter renders it
    answer = client.post(
        "/admin/sms-count.json", json={"sms_body": source}, headers={"X-CSRFToken": token}
    ).get_json()
    assert "does too much work" in answer["template_error"]
