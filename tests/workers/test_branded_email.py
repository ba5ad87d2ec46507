"""The email members receive carries their region's brand: the sender display name in
From (quoted and encoded as RFC 5322 asks), and the footer and colour in the layout,
escaped like any other text; a question's box and answer buttons wear the same colour."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default
from email.utils import parseaddr

from commsvc.extensions import db
from commsvc.models import Branding, Bulletin
from tests import factories
from workers.gateways import email_gateway
from workers.sending import send_batch

SENDER = "Gogledd Cymru, Undeb – Iechyd"  # a comma to quote, a dash to encode
FOOTER = "Tŷ'r Undeb, 1 Stryd <Fawr> & Co, Bangor"


def _brand_the_region_of(bulletin_id: int) -> None:
    region_id = db.session.get(Bulletin, bulletin_id).partnership.region_id
    db.session.add(
        Branding(
            region_id=region_id,
            union_name="Undeb Gogledd Cymru",
            sender_name=SENDER,
            footer_address=FOOTER,
            colour="#00533f",
        )
    )
    db.session.commit()


def test_the_received_email_has_the_sender_name_footer_and_colour(app, email_sink):
    bulletin = factories.sending_bulletin(2, channels="email")
    _brand_the_region_of(bulletin.id)
    ids = bulletin.deliveries_by_channel["email"]
    assert send_batch(bulletin.id, ids, "email", email_gateway()).accepted == 2

    assert len(email_sink.messages) == 2
    for envelope_from, _recipients, data in email_sink.messages:
        head = data.split(b"\r\n\r\n", 1)[0]
        from_line = next(line for line in head.split(b"\r\n") if line.startswith(b"From:"))
        assert from_line.isascii()  # the non-ASCII name travels as an encoded word
        received = message_from_bytes(data, policy=default)
        (sender,) = received["From"].addresses
        assert sender.display_name == SENDER
        assert sender.addr_spec == app.config["COMMSVC_EMAIL_FROM"]
        assert parseaddr(envelope_from)[1] == app.config["COMMSVC_EMAIL_FROM"]
        html = received.get_body(("html",)).get_content()
        text = received.get_body(("plain",)).get_content()
        assert "1 Stryd &lt;Fawr&gt; &amp; Co, Bangor" in html and "<Fawr>" not in html
        assert "Undeb Gogledd Cymru" in html and "#00533f" in html
        assert FOOTER in text


def test_without_a_brand_the_configured_sender_is_used_as_it_is(app, email_sink):
    bulletin = factories.sending_bulletin(1, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    send_batch(bulletin.id, ids, "email", email_gateway())
    (_, _, data) = email_sink.messages[0]
    received = message_from_bytes(data, policy=default)
    assert received["From"].addresses[0].addr_spec == app.config["COMMSVC_EMAIL_FROM"]
    assert "Union bulletin" in received.get_body(("html",)).get_content()


def test_a_questions_box_and_buttons_wear_the_regions_colour(app, email_sink):
    bulletin = factories.sending_bulletin(1, channels="email", question=factories.question())
    _brand_the_region_of(bulletin.id)
    send_batch(bulletin.id, bulletin.deliveries_by_channel["email"], "email", email_gateway())

    (_, _, data) = email_sink.messages[0]
    html = message_from_bytes(data, policy=default).get_body(("html",)).get_content()
    box = html[html.index("border:2px solid") :]
    assert box.startswith("border:2px solid #00533f")
    buttons = re.findall(r'<a href="[^"]*/a/[^"]*" style="([^"]*)"', box)
    assert len(buttons) == 2 and all("background:#00533f" in style for style in buttons)
    assert "#4b2682" not in html  # no part of the email keeps the default purple
