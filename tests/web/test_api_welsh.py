"""POST /api/v1/bulletins takes an optional Welsh version; a half or broken one is
refused with a clear error and nothing is saved."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Bulletin
from tests import factories


def test_welsh_fields_are_kept_and_shown(app, client):
    partnership = factories.partnership()
    factories.topics("bargaining")
    body = factories.bulletin_body(
        partnership.id,
        subject_cy="Cynnig",
        email_body_cy="Annwyl {{ member.first_name }}",
        sms_body_cy="Helo",
        public=True,
    )
    created = client.post("/api/v1/bulletins", json=body, headers=factories.api_key())
    assert created.status_code == 201, created.get_json()
    bulletin = db.session.get(Bulletin, created.get_json()["id"])
    assert (bulletin.subject_cy, bulletin.sms_body_cy, bulletin.public) == ("Cynnig", "Helo", True)
    shown = client.get(f"/api/v1/bulletins/{bulletin.id}", headers=factories.api_key())
    assert shown.get_json()["languages"] == ["en", "cy"] and shown.get_json()["public"] is True


def test_half_a_welsh_email_or_a_broken_welsh_template_is_refused(app, client):
    partnership = factories.partnership()
    factories.topics("bargaining")
    headers = factories.api_key()
    half = factories.bulletin_body(partnership.id, email_body_cy="Annwyl")
    refused = client.post("/api/v1/bulletins", json=half, headers=headers)
    assert refused.status_code == 422
    detail = refused.get_json()["detail"]
    assert "(subject_cy) and the Welsh email (email_body_cy) go together" in detail
    broken = factories.bulletin_body(partnership.id, sms_body_cy="Helo {{ member.nickname }}")
    refused = client.post("/api/v1/bulletins", json=broken, headers=headers)
    assert refused.status_code == 422 and "Welsh version" in refused.get_json()["detail"]
    not_bool = factories.bulletin_body(partnership.id, public="yes")
    assert client.post("/api/v1/bulletins", json=not_bool, headers=headers).status_code == 422
    assert db.session.query(Bulletin).count() == 0
