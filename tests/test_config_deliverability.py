"""The bounce domain and DKIM settings: refused with a clear message when they cannot work."""

from __future__ import annotations

import pytest

from commsvc.config import load_settings
from commsvc.errors import ConfigError


def test_bounce_domain_is_normalised_and_a_bad_one_refused(tmp_path):
    settings = load_settings(tmp_path, {"COMMSVC_BOUNCE_DOMAIN": " Bounces.Union.Example. "})
    assert settings.bounce_domain == "bounces.union.example"
    assert load_settings(tmp_path, {}).bounce_domain is None
    with pytest.raises(ConfigError, match="COMMSVC_BOUNCE_DOMAIN"):
        load_settings(tmp_path, {"COMMSVC_BOUNCE_DOMAIN": "not a domain"})


def test_dkim_needs_both_settings_and_a_key_file(tmp_path):
    with pytest.raises(ConfigError, match="both"):
        load_settings(tmp_path, {"COMMSVC_DKIM_SELECTOR": "s1"})
    with pytest.raises(ConfigError, match="not a readable file"):
        load_settings(
            tmp_path,
            {"COMMSVC_DKIM_SELECTOR": "s1", "COMMSVC_DKIM_PRIVATE_KEY": str(tmp_path / "none.pem")},
        )
    with pytest.raises(ConfigError, match="SELECTOR"):
        load_settings(
            tmp_path, {"COMMSVC_DKIM_SELECTOR": "s 1", "COMMSVC_DKIM_PRIVATE_KEY": __file__}
        )


def test_a_dkim_key_that_cannot_sign_is_refused_at_start(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="not a usable PEM key"):
        load_settings(
            tmp_path, {"COMMSVC_DKIM_SELECTOR": "s1", "COMMSVC_DKIM_PRIVATE_KEY": str(bad)}
        )
