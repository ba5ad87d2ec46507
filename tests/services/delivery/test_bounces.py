"""Soft bounces add up across bulletins; a complaint must carry a MAC to count."""

from __future__ import annotations

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from commsvc.services.accounts import actors
from commsvc.services.bulletins import composing, lifecycle
from commsvc.services.delivery import bounces, fanout
from commsvc.services.delivery.verp import Verp
from commsvc.services.members import suppression
from tests import factories
from tests.e2e import bounce_samples

VERP = Verp("bounces.union.example", "test-secret")
LIMIT = 3


def send_bulletins(count: int) -> dict[str, list[int]]:
    """`count` bulletins fanned out to the same two members: email delivery ids by address."""
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows(
        [factories.member_row(email=f"{n}@example.org", channels="email") for n in ("a", "b")]
    )
    for _ in range(count):
        body = factories.bulletin_body(partnership.id, channels=["email"])
        bulletin = composing.create_bulletin(actors.SYSTEM, body)
        lifecycle.start_sending(bulletin, "test")
        fanout.fan_out(bulletin.id)
    rows = db.session.execute(
        select(Member.email, Delivery.id)
        .join(Delivery, Delivery.member_id == Member.id)
        .order_by(Delivery.id)
    ).all()
    ids: dict[str, list[int]] = {}
    for email, delivery_id in rows:
        ids.setdefault(email, []).append(delivery_id)
    return ids


def soft_bounce(delivery_id: int, address: str) -> bounces.Handled:
    to = VERP.bounce_address(delivery_id)
    raw = bounce_samples.exim_delay_dsn(b"Subject: x\r\n\r\n", to, address)
    return bounces.handle_message(raw, [VERP.read(to)], VERP, LIMIT)


def test_an_address_is_suppressed_after_soft_bounces_on_its_latest_emails(app):
    ids = send_bulletins(3)
    for delivery_id in ids["a@example.org"][:2]:
        assert soft_bounce(delivery_id, "a@example.org").kind == "soft_bounce"
    soft_bounce(ids["b@example.org"][0], "b@example.org")
    assert not suppression.is_suppressed("email", "a@example.org")  # two in a row: not yet
    soft_bounce(ids["a@example.org"][2], "a@example.org")
    assert suppression.is_suppressed("email", "a@example.org")
    assert not suppression.is_suppressed("email", "b@example.org")


def test_a_complaint_naming_its_delivery_only_by_header_changes_nothing(app):
    ids = send_bulletins(1)
    delivery_id = ids["a@example.org"][0]
    original = (
        f"From: bulletins@union.example\r\nTo: a@example.org\r\n"
        f"Message-ID: <d{delivery_id}.abc.0000000000000000@union.example>\r\n"
        f"X-Commsvc-Delivery: {delivery_id}\r\n\r\nbody\r\n"
    ).encode()
    raw = bounce_samples.arf_complaint_redacted(
        original, "someone@elsewhere.example", keep_delivery_header=True
    )
    handled = bounces.handle_message(raw, [VERP.read("fbl@bounces.union.example")], VERP, LIMIT)
    assert handled.kind == "unknown"
    assert not suppression.is_suppressed("email", "a@example.org")
    assert (
        db.session.scalar(select(Member.opted_out).where(Member.email == "a@example.org")) is False
    )
