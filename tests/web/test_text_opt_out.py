"""The page behind a text's short opt-out link, in the member's language."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member
from tests import factories
from tests.web.admin_session import csrf


def test_a_welsh_member_stops_texts_in_welsh_and_can_undo_it(app, client):
    member = factories.member(mobile="07911 123456")
    member.language = "cy"
    db.session.commit()
    link = factories.member_links().text_opt_out_url(member.public_id)
    page = client.get(link).get_data(as_text=True)
    assert "Peidio â chael negeseuon testun gennym ni?" in page
    stopped = client.post(link, data={"csrf_token": csrf(page), "texts": "off"})
    assert "Mae negeseuon testun wedi'u diffodd" in stopped.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, member.id).sms_enabled is False
    record = db.session.query(ConsentRecord).filter_by(source="text_opt_out_link").one()
    assert record.change == {"sms": False}
    undo = client.post(
        link, data={"csrf_token": csrf(stopped.get_data(as_text=True)), "texts": "on"}
    )
    assert "Wedi'i wneud: mae negeseuon testun ymlaen eto." in undo.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, member.id).sms_enabled is True


def test_a_member_page_link_is_not_a_text_opt_out_link(app, client):
    member = factories.member()
    preferences_token = factories.member_links().preferences_url(member.public_id).split("/")[-1]
    assert client.get(f"/t/{preferences_token}").status_code == 400


def test_a_member_with_no_email_who_switches_to_welsh_reads_every_sentence_in_welsh(app, client):
    member = factories.member(email="", mobile="07911 123456", channels="sms")
    link = factories.member_links().text_opt_out_url(member.public_id) + "?lang=cy"
    page = client.get(link).get_data(as_text=True)
    assert '<html lang="cy">' in page and 'hreflang="en"' in page
    assert "<title>Negeseuon testun gennym ni</title>" in page
    assert "Ni fyddwch yn cael rhagor o fwletinau drwy neges destun." in page
    assert "Bydd negeseuon gwasanaeth, fel pleidleisiau, yn dal i ddod drwy neges destun" in page
    assert ">Peidio â chael negeseuon testun</button>" in page
    assert "Rheoli eich holl ddewisiadau: pynciau, e-bost a negeseuon testun" in page
    stopped = client.post(link, data={"csrf_token": csrf(page), "texts": "off"})
    off = stopped.get_data(as_text=True)
    assert "Mae negeseuon testun wedi'u diffodd" in off
    assert ">Dadwneud: troi negeseuon testun yn ôl ymlaen</button>" in off
    for english in ("Stop texts", "Texts are off", "Undo", "bulletins by text", "Manage all"):
        assert english not in page and english not in off
