"""Organisers give topics and partnerships their Welsh names in the admin; members
reading Welsh then see them. An organiser limited to regions names only their own
partnerships, and cannot rename topics every region shares."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Partnership, Topic
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, log_in, token_from


def test_admin_sets_welsh_names_that_a_welsh_member_sees(app, client):
    partnership = factories.partnership()
    factories.topics("bargaining")
    topic = db.session.query(Topic).filter_by(name="bargaining").one()
    auth.create_user("admin@union.example", PASSWORD, "admin", [])
    log_in(client, "admin@union.example")
    form = {
        "csrf_token": token_from(client, "/admin/welsh-names"),
        f"topic_{topic.id}": "  bargeinio ",
        f"partnership_{partnership.id}": "Partneriaeth Salford",
    }
    saved = client.post("/admin/welsh-names", data=form, follow_redirects=True)
    assert "Saved: 2 Welsh names changed." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).name_cy == "bargeinio"
    assert db.session.get(Partnership, partnership.id).name_cy == "Partneriaeth Salford"
    member = factories.member()
    page = client.get(factories.member_links().preferences_url(member.public_id) + "?lang=cy")
    assert "Bargeinio" in page.get_data(as_text=True)


def test_regional_organiser_cannot_rename_shared_topics(app, client):
    factories.partnership()
    factories.topics("bargaining")
    topic = db.session.query(Topic).filter_by(name="bargaining").one()
    auth.create_user("org@union.example", PASSWORD, "organiser", [factories.REGION])
    log_in(client, "org@union.example")
    page = client.get("/admin/welsh-names").get_data(as_text=True)
    assert f"topic_{topic.id}" not in page
    form = {"csrf_token": token_from(client, "/admin/welsh-names"), f"topic_{topic.id}": "x"}
    refused = client.post("/admin/welsh-names", data=form).get_data(as_text=True)
    assert "Only an admin names topics" in refused
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).name_cy == ""
