"""A bulletin's page and report: the moves its status allows, counts per channel and
status, a chart of sending over time, failures with their reasons, and a CSV of every
delivery."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.services.accounts import auth
from commsvc.services.delivery import claims, fanout
from tests import factories
from tests.web.admin_session import PASSWORD, log_in

ADMIN = "admin@union.example"
REASON = '=HYPERLINK("http://evil.example") 550 no such number'


def _sent_bulletin(client) -> int:
    """A bulletin fanned out, with outcomes recorded as a worker records them."""
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(channels="email;sms") for _ in range(5)])
    headers = factories.api_key()
    bulletin_id = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    ).get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    fanout.fan_out(bulletin_id)
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.bulletin_id == bulletin_id).order_by(Delivery.id)
    ).all()
    claimed = claims.claim(bulletin_id, [d.id for d in deliveries])
    for delivery in deliveries:
        if delivery.channel == "sms" and delivery.id == deliveries[-1].id:
            claims.record_failure(
                claims.Failure(delivery.id, True, REASON, "sms_generic"), claimed[delivery.id], 5
            )
        else:
            provider = "smtp" if delivery.channel == "email" else "sms_generic"
            claims.record_accepted(delivery.id, provider, f"p-{delivery.id}")
    return bulletin_id


def test_report_shows_counts_per_channel_chart_and_failure_reasons(app, client):
    bulletin_id = _sent_bulletin(client)
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.get(f"/admin/bulletins/{bulletin_id}/report").get_data(as_text=True)
    row = page.split("<td>sent</td>")[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[1:]] == ["5", "4", "9"]
    assert "<polyline" in page and "email: 5 sent" in page and "sms: 4 sent" in page
    assert "550 no such number" in page and "<td>1</td>" in page


def test_csv_export_lists_every_delivery_and_defuses_formulas(app, client):
    bulletin_id = _sent_bulletin(client)
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    response = client.get(f"/admin/bulletins/{bulletin_id}/deliveries.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 10
    assert {r["status"] for r in rows} == {"sent", "permanent_failure"}
    [failed] = [r for r in rows if r["status"] == "permanent_failure"]
    assert failed["last_error"] == "'" + REASON  # a spreadsheet shows it, never runs it


def test_dashboard_shows_members_per_partnership_and_recent_results(app, client):
    bulletin_id = _sent_bulletin(client)
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.get("/admin").get_data(as_text=True)
    assert f"/admin/bulletins/{bulletin_id}/status.json" in page  # in flight, polled live
    assert f'<td data-label="Partnership">{factories.S31}</td>' in page
    assert '<td data-label="Members">5</td>' in page
    assert "New bulletin" in page and "Sending now" in page


def test_bulletin_page_offers_only_the_moves_its_status_allows(app, client):
    partnership = factories.partnership()
    factories.topics()
    headers = factories.api_key()
    bulletin_id = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    ).get_json()["id"]
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    draft = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    # Sending goes through the check page and its confirmation, never one button here.
    assert "Check, test and send" in draft and "Send now" not in draft
    assert "Cancel" in draft and "Pause" not in draft
    client.post(f"/api/v1/bulletins/{bulletin_id}/cancel", headers=headers)
    cancelled = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "Check, test and send" not in cancelled and "Resume" not in cancelled
    assert "Cancel</button>" not in cancelled and "Pause</button>" not in cancelled


def test_dashboard_lists_drafts_scheduled_and_sent_with_members_and_messages_apart(app, client):
    sent_id = _sent_bulletin(client)
    from commsvc.services.bulletins import lifecycle

    lifecycle.mark_sent(sent_id)
    partnership = db.session.get(Bulletin, sent_id).partnership
    draft = factories.bulletin(partnership.id, title="Draft for the AGM")
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.get("/admin").get_data(as_text=True)
    drafts = page.split("<h2>Drafts</h2>")[1].split("</section>")[0]
    assert "Draft for the AGM" in drafts and f"/admin/bulletins/{draft.id}/edit" in drafts
    recent = page.split("<h2>Recently sent</h2>")[1].split("</section>")[0]
    assert "Audience 5 members · 9 messages sent" in recent
    started = client.get(f"/admin/new?partnership={partnership.id}")
    assert started.headers["Location"].endswith(f"/admin/partnerships/{partnership.id}/compose")


def test_only_an_admin_sets_a_partnerships_rules_for_sending(app, client):
    partnership = factories.partnership()
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    auth.create_user("organiser@union.example", PASSWORD, "organiser", factories.home_regions())
    log_in(client, "organiser@union.example")
    token = client.get("/admin/partnerships").get_data(as_text=True)
    assert "Rules for sending" not in token
    from tests.web.test_admin_pages import csrf

    refused = client.post(
        f"/admin/partnerships/{partnership.id}/rules",
        data={"csrf_token": csrf(token), "requires_approval": "yes", "confirm_above": "10"},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf(token)})
    log_in(client, ADMIN)
    page = client.get("/admin/partnerships").get_data(as_text=True)
    bad = client.post(
        f"/admin/partnerships/{partnership.id}/rules",
        data={"csrf_token": csrf(page), "requires_approval": "yes", "confirm_above": "lots"},
    )
    assert bad.status_code == 422 and "whole number" in bad.get_data(as_text=True)
    db.session.refresh(partnership)
    assert not partnership.requires_approval and partnership.confirm_above == 500
    client.post(
        f"/admin/partnerships/{partnership.id}/rules",
        data={"csrf_token": csrf(page), "requires_approval": "yes", "confirm_above": "1,000"},
    )
    db.session.refresh(partnership)
    assert partnership.requires_approval and partnership.confirm_above == 1000


def test_report_and_bulletin_page_say_why_members_were_left_out(app, client):
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    factories.import_rows(
        [factories.member_row(channels="email;sms") for _ in range(2)]
        + [factories.member_row(topics="campaigns", membership_number="OUT1")]
    )
    headers = factories.api_key()
    bulletin_id = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    ).get_json()["id"]
    client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers)
    fanout.fan_out(bulletin_id)
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    report = client.get(f"/admin/bulletins/{bulletin_id}/report").get_data(as_text=True)
    left_out = report.split("Left out, and why")[1].split("</section>")[0]
    assert "the member is not subscribed to this topic" in left_out
    page = client.get(f"/admin/bulletins/{bulletin_id}?q=OUT1").get_data(as_text=True)
    listed = page.split('id="deliveries"')[1]
    assert "2 messages match" in listed and "not subscribed to this topic" in listed
    assert "M0" not in listed.split("<tbody>")[1]  # only the member searched for
