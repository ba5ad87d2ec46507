"""Reading providers from COMMSVC_EMAIL_URL and COMMSVC_SMS_URL."""

from __future__ import annotations

import pytest

from commsvc import providers
from commsvc.config import load_settings
from commsvc.errors import ConfigError


def test_several_providers_with_weights_and_limits():
    found = providers.parse(
        "sms",
        "http://127.0.0.1:9001/send;weight=3;rate=20, "
        "twilio+https://AC1:tok@api.twilio.com;concurrency=4, https://rest.nexmo.com",
    )
    assert [p.kind for p in found] == ["sms_generic", "twilio", "vonage"]
    assert [p.weight for p in found] == [3, 1, 1]
    assert found[0].rate == 20 and found[1].concurrency == 4
    assert found[1].username == "AC1" and found[1].password == "tok"
    assert found[1].endpoint == "https://api.twilio.com"
    assert len({p.name for p in found}) == 3


def test_email_kinds_come_from_the_scheme_or_the_host():
    kinds = [
        p.kind
        for p in providers.parse(
            "email",
            "smtp+starttls://u:p@mail.example:587,https://api.postmarkapp.com,"
            "postmark+http://:t@127.0.0.1:9,https://mail.example/api/send",
        )
    ]
    assert kinds == ["smtp", "postmark", "postmark", "email_generic"]


@pytest.mark.parametrize(
    ("channel", "value", "message"),
    [
        ("sms", "ftp://x", "http"),
        ("sms", "smtp://127.0.0.1:25", "http"),
        ("sms", "http://x/send;weight=0", "positive"),
        ("sms", "http://x/send;speed=3", "unknown option"),
        ("email", "not a url", "not a URL"),
        ("email", " , ", "names no provider"),
    ],
)
def test_urls_that_cannot_work_are_refused_with_a_clear_message(channel, value, message):
    with pytest.raises(ConfigError, match=message):
        providers.parse(channel, value)


def test_settings_refuse_a_bad_provider_url_and_a_bad_rate(tmp_path):
    with pytest.raises(ConfigError, match="COMMSVC_SMS_URL"):
        load_settings(tmp_path, {"COMMSVC_SMS_URL": "http://x;weight=-1"})
    with pytest.raises(ConfigError, match="COMMSVC_SMS_RATE"):
        load_settings(tmp_path, {"COMMSVC_SMS_RATE": "fast"})
