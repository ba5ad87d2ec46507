"""Admins see bounce and complaint rates against the 0.3% line, find a suppressed address
and lift it (audited); organisers may not."""

from __future__ import annotations

from sqlalchemy import update

from commsvc.extensions import db
from commsvc.models import AuditEntry, Delivery, Member
from commsvc.models.base import utcnow
from commsvc.services.accounts import auth
from commsvc.services.delivery import receipts
from commsvc.services.members import suppression
from tests import factories
from tests.web.admin_session import PASSWORD, log_in, token_from

ADMIN = "admin@union.example"


def sent_bulletin_with_a_bounce_and_a_complaint() -> list[int]:
    bulletin = factories.sending_bulletin(count=10, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    db.session.execute(
        update(Delivery).where(Delivery.id.in_(ids)).values(status="sent", sent_at=utcnow())
    )
    db.session.commit()
    receipts.apply_email_event(None, str(ids[0]), "bounce", True, "5.1.1 user unknown")
    receipts.apply_email_event(None, str(ids[1]), "complaint", False, None)
    return ids


def test_admin_sees_rates_over_the_line_and_lifts_a_suppression(app, client):
    ids = sent_bulletin_with_a_bounce_and_a_complaint()
    address = db.session.get(Member, db.session.get(Delivery, ids[0]).member_id).email
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.get("/admin/deliverability").get_data(as_text=True)
    assert "Salford Integrated Care Section 31 Partnership" in page
    assert "10.00% <strong>over 0.30%</strong>" in page  # 1 bounce and 1 complaint in 10
    assert "2 suppressed." in page

    found = client.get(f"/admin/deliverability?address={address}").get_data(as_text=True)
    assert "1 suppressed." in found and address in found
    lift_path = found.split('href="/admin/deliverability/suppressions/')[1].split('"')[0]
    asked = client.get(f"/admin/deliverability/suppressions/{lift_path}").get_data(as_text=True)
    assert "Send to this email address again?" in asked and "(hard bounce)" in asked
    token = token_from(client, "/admin/deliverability")
    stray = client.post(
        f"/admin/deliverability/suppressions/{lift_path}", data={"csrf_token": token}
    )
    assert stray.status_code == 302 and suppression.is_suppressed("email", address)
    response = client.post(
        f"/admin/deliverability/suppressions/{lift_path}",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Suppression lifted" in response.get_data(as_text=True)
    assert not suppression.is_suppressed("email", address)
    entry = db.session.query(AuditEntry).filter_by(action="suppression.lifted").one()
    assert entry.actor == ADMIN


def test_organisers_cannot_see_or_lift_suppressions(app, client):
    sent_bulletin_with_a_bounce_and_a_complaint()
    auth.create_user("organiser@union.example", PASSWORD, "organiser", [])
    log_in(client, "organiser@union.example")
    assert client.get("/admin/deliverability").status_code == 403
    token = token_from(client, "/admin/partnerships")
    response = client.post("/admin/deliverability/suppressions/1/lift", data={"csrf_token": token})
    assert response.status_code == 403
    assert db.session.query(AuditEntry).filter_by(action="suppression.lifted").count() == 0
