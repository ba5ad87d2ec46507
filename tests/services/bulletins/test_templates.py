"""Reusable templates: checked like bulletins, versioned by name, recorded on bulletins."""

from __future__ import annotations

import pytest

from commsvc.errors import Forbidden, TemplateError, ValidationError
from commsvc.models import MessageTemplate
from commsvc.services.bulletins import templates
from tests import factories

BODY = {
    "name": "Pay round",
    "subject": "Pay: {{ member.first_name }}",
    "email_body": "Dear {{ member.first_name }}",
    "sms_body": "Pay news {{ member.first_name }}",
}


def test_saving_a_name_again_adds_a_version_and_keeps_the_old_one(app):
    first = templates.save_template(factories.organiser(), BODY)
    second = templates.save_template(
        factories.organiser("b@union.example"), {**BODY, "subject": "Pay v2"}
    )
    other = templates.save_template(factories.organiser(), {**BODY, "name": "AGM"})
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert (
        templates.get_template(factories.organiser(), first.id).subject
        == "Pay: {{ member.first_name }}"
    )
    assert [t.version for t in templates.versions(factories.organiser(), "Pay round")] == [1, 2]
    assert [(t.name, t.version) for t in templates.latest_templates(factories.organiser())] == [
        ("AGM", 1),
        ("Pay round", 2),
    ]
    assert second.created_by == "b@union.example"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"name": ""}, ValidationError, "name is required"),
        ({"subject": 5}, ValidationError, "subject must be text"),
        ({"subject": "", "email_body": "", "sms_body": ""}, ValidationError, "needs a subject"),
        ({"sms_body": "{{ member.__class__ }}"}, TemplateError, "SMS body, line 1"),
        ({"email_body": "ok\n{{ range(10) }}"}, TemplateError, "email body, line 2"),
        ({"sms_body": "ŵ" * 700}, ValidationError, "the limit is 10"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_is_saved(app, change, error, message):
    with pytest.raises(error, match=message):
        templates.save_template(factories.organiser(), {**BODY, **change})
    assert MessageTemplate.query.count() == 0


def test_a_viewer_cannot_save_templates(app):
    with pytest.raises(Forbidden):
        templates.save_template(factories.organiser(role="viewer"), BODY)


def test_a_bulletin_records_the_template_version_it_started_from(app):
    partnership = factories.partnership()
    first = templates.save_template(factories.organiser(), BODY)
    templates.save_template(factories.organiser(), {**BODY, "subject": "v2"})
    bulletin = factories.bulletin(
        partnership.id, template=first.id, subject="", email_body="", sms_body=""
    )
    assert bulletin.template_id == first.id
    assert bulletin.subject == "Pay: {{ member.first_name }}"
    assert bulletin.sms_body == "Pay news {{ member.first_name }}"
    own = factories.bulletin(partnership.id, template=first.id, subject="My own subject")
    assert own.subject == "My own subject" and own.template.version == 1
