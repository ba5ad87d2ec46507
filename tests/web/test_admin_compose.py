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
    # Texts go from UNION here, which nobody can reply to: the line is the member's link,
    # counted at the length of a member's own.
    hi, opt_out = plain["text"].split("\n")
    assert hi == "Hi Alex" and opt_out.startswith("Opt out: http") and "STOP" not in opt_out
    assert plain["characters"] == len(plain["text"])
    welsh = client.post(
        "/admin/sms-count.json", json={"sms_body": "Croeso! Dŵr a thŷ " * 8}, headers=headers
    ).get_json()
    # 144 characters of body and a 56-character opt-out line: four UCS-2 segments.
    assert welsh["encoding"] == "UCS-2" and welsh["segments"] == 4
    long = client.post(
        "/admin/sms-count.json", json={"sms_body": "ŵ" * 300}, headers=headers
    ).get_json()
    assert long["segments"] == 6 and "6 segments" in long["warning"]
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
    assert "Check before sending" in saved and "Continue to send" in saved
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "Pay update" in page and "Audience: <strong>2 members</strong>" in page
    assert "Health member: Hana" in page and "Local government member: Lee" in page
    assert "Pay news for Hana" in page and "Pay news for Lee" in page
    assert "Hi Lee, vote by Friday\nOpt out: http" in page and "Reply STOP" not in page
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
    assert "Pay round version 1" in page


def test_two_person_approval_in_the_admin(setup, client):
    setup.requires_approval = True
    db.session.commit()
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "Approve</button>" not in page, "the author is not offered Approve"
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
    assert "Approved." in text
    assert f'<td data-label="Who">{SECOND}</td><td data-label="Move">draft → approved</td>' in text


def test_schedule_goes_through_the_confirmation_and_shows_in_the_history(setup, client):
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    confirm = client.get(
        f"/admin/bulletins/{bulletin.id}/confirm",
        query_string={"when": "later", "send_date": "2099-07-05", "send_time": "08:00"},
    ).get_data(as_text=True)
    assert db.session.get(Bulletin, bulletin.id).status == "draft"  # nothing yet
    assert "Send 2 emails and 2 text messages to 2 members of" in confirm
    assert "8:00am (BST) on Sunday 5 July 2099" in confirm
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', confirm).group(1)
    done = client.post(
        f"/admin/bulletins/{bulletin.id}/send",
        data={
            "csrf_token": csrf(confirm),
            "fingerprint": fingerprint,
            "scheduled_for": "2099-07-05T07:00:00",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Scheduled: send 2 emails" in done
    assert db.session.get(Bulletin, bulletin.id).status == "scheduled"
    history = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "draft → scheduled" in history and "for 8:00am (BST) on Sunday 5 July 2099" in history


def test_a_schedule_in_the_past_or_nonsense_is_refused_by_its_field(setup, client):
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    for day, clock, message in (
        ("2020-01-05", "07:00", "has passed. Choose a time in the future."),
        ("soon", "07:00", "Enter a date"),
        ("2099-03-29", "01:30", "does not exist in the UK"),
    ):
        page = client.get(
            f"/admin/bulletins/{bulletin.id}/confirm",
            query_string={"when": "later", "send_date": day, "send_time": clock},
        )
        text = page.get_data(as_text=True)
        assert page.status_code == 422 and message in text
        assert 'class="error-summary"' in text and 'aria-invalid="true"' in text
    assert db.session.get(Bulletin, bulletin.id).status == "draft"


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


def test_template_remembers_topic_and_channels(setup, client):
    compose(client, setup, save_as_template="Events", topic="campaigns", channels=["email"])
    template = db.session.query(MessageTemplate).one()
    assert (template.topic, template.channels) == ("campaigns", "email")
    page = client.get(f"/admin/partnerships/{setup.id}/compose?template={template.id}")
    text = page.get_data(as_text=True)
    assert '<option value="campaigns" data-kind="campaign" selected>' in text
    assert 'value="email" checked' in text and 'value="sms" checked' not in text


def test_editing_an_approved_draft_withdraws_the_approval(setup, client):
    setup.requires_approval = True
    db.session.commit()
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    client.post("/logout", data={"csrf_token": csrf(client.get("/admin").get_data(as_text=True))})
    log_in(client, SECOND, PASSWORD)
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    client.post(f"/admin/bulletins/{bulletin.id}/approve", data={"csrf_token": csrf(page)})
    assert db.session.get(Bulletin, bulletin.id).status == "approved"
    form = client.get(f"/admin/bulletins/{bulletin.id}/edit").get_data(as_text=True)
    assert "Saving a change withdraws the approval" in form and "Pay update" in form
    done = client.post(
        f"/admin/bulletins/{bulletin.id}/edit",
        data={
            "csrf_token": csrf(form),
            "title": "Pay update (corrected)",
            "topic": "bargaining",
            "channels": ["email"],
            "subject": "Pay news",
            "email_body": "Corrected figures.",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The approval was withdrawn" in done and "approved → draft" in done
    changed = db.session.get(Bulletin, bulletin.id)
    assert (changed.status, changed.approved_by, changed.title) == (
        "draft",
        None,
        "Pay update (corrected)",
    )
    assert "needs approving by a second organiser" in done  # no way to send it yet


def test_a_sent_bulletin_cannot_be_edited_or_sent_again(setup, client):
    compose(client, setup)
    bulletin = db.session.query(Bulletin).one()
    bulletin.status = "sent"
    db.session.commit()
    assert client.get(f"/admin/bulletins/{bulletin.id}/edit").status_code == 302
    page = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "Continue to send" not in page and "Change the draft" not in page
    sent = client.post(
        f"/admin/bulletins/{bulletin.id}/send",
        data={"csrf_token": csrf(page), "fingerprint": "x"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "cannot be sent" in sent or "changed after you checked it" in sent
    assert db.session.get(Bulletin, bulletin.id).status == "sent"


def test_the_live_breakdown_counts_what_is_ticked(setup, client):
    factories.import_rows(
        [factories.member_row(first_name="Sam", service_group="health", email="", channels="sms")]
    )
    page = client.get(f"/admin/partnerships/{setup.id}/compose").get_data(as_text=True)
    assert 'value="health"' in page and factories.S31_EMPLOYERS[1] in page  # targeting offered
    answer = client.post(
        f"/admin/partnerships/{setup.id}/audience.json",
        data={"topic": "bargaining", "channels": ["email", "sms"], "service_groups": "health"},
        headers={"X-CSRFToken": csrf(page)},
    ).get_json()
    assert answer["audience_size"] == 2
    assert answer["channels"]["email"] == {
        "will_receive": 1,
        "skipped": 0,
        "suppressed": 0,
        "no_address": 1,
    }
    assert answer["channels"]["sms"]["will_receive"] == 2
    bad = client.post(
        f"/admin/partnerships/{setup.id}/audience.json",
        data={"topic": "bargaining", "channels": "email", "service_groups": "fishing"},
        headers={"X-CSRFToken": csrf(page)},
    )
    assert bad.status_code == 400 and "not health or local_government" in bad.get_json()["detail"]


def test_the_templates_page_keeps_topic_and_channels_and_shows_errors_by_field(setup, client):
    page = client.get("/admin/templates").get_data(as_text=True)
    refused = client.post(
        "/admin/templates",
        data={"csrf_token": csrf(page), "name": "", "subject": "Hello", "sms_body": "x" * 2000},
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'href="#name"' in text
    assert "Enter a name for the template" in text and "maxlength" not in text
    client.post(
        "/admin/templates",
        data={
            "csrf_token": csrf(page),
            "name": "Branch meeting",
            "topic": "campaigns",
            "channels": ["sms"],
            "sms_body": "Branch meeting on Monday",
        },
    )
    saved = db.session.query(MessageTemplate).one()
    assert (saved.topic, saved.channels) == ("campaigns", "sms")


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
