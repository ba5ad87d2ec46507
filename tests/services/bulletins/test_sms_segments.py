"""SMS encoding and segment counts against a table of cases."""

from __future__ import annotations

import pytest

from commsvc.errors import ValidationError
from commsvc.services.bulletins import sms_segments
from commsvc.services.bulletins.rendering import SMS_OPT_OUT_HINT, with_opt_out_line

CASES = [
    # (name, text, encoding, units, segments)
    ("plain GSM", "Pay offer out. Vote by Friday.", "GSM-7", 30, 1),
    ("exactly 160 GSM", "a" * 160, "GSM-7", 160, 1),
    ("161 GSM takes two", "a" * 161, "GSM-7", 161, 2),
    ("306 GSM is two full segments", "a" * 306, "GSM-7", 306, 2),
    ("307 GSM takes three", "a" * 307, "GSM-7", 307, 3),
    ("extension chars count twice", "{}[]~|^€\\", "GSM-7", 18, 1),
    ("80 euro signs fill one segment", "€" * 80, "GSM-7", 160, 1),
    ("81 euro signs take two", "€" * 81, "GSM-7", 162, 2),
    ("GSM accents stay GSM", "Café à Zürich ñ ä ö ü é è", "GSM-7", 25, 1),
    ("Welsh ŵ ŷ â need UCS-2", "Croeso i'r cyfarfod: dŵr, tŷ, â", "UCS-2", 31, 1),
    ("exactly 70 UCS-2", "ŵ" * 70, "UCS-2", 70, 1),
    ("71 UCS-2 takes two", "ŵ" * 71, "UCS-2", 71, 2),
    ("134 UCS-2 is two full segments", "ŷ" * 134, "UCS-2", 134, 2),
    ("135 UCS-2 takes three", "ŷ" * 135, "UCS-2", 135, 3),
    ("emoji counts as two units", "Vote now ✊🏽", "UCS-2", 12, 1),
    ("curly quotes force UCS-2", "Don’t miss it", "UCS-2", 13, 1),
    ("empty", "", "GSM-7", 0, 1),
]


@pytest.mark.parametrize(("name", "text", "encoding", "units", "segments"), CASES)
def test_segment_count_matches_the_table(name, text, encoding, units, segments):
    counted = sms_segments.count(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments), name


def test_more_than_three_segments_warns_and_names_the_ucs2_characters():
    counted = sms_segments.count("â" * 300)
    assert counted.segments == 5
    assert "5 segments" in counted.warning and "â" in counted.warning
    assert sms_segments.count("a" * 459).warning is None  # three segments: no warning


def test_more_than_the_hard_limit_is_refused():
    with pytest.raises(ValidationError, match="11 segments"):
        sms_segments.check_limit("a" * (153 * 10 + 1))
    assert sms_segments.check_limit("a" * 153 * 10).segments == 10


def test_opt_out_hint_is_counted_in():
    body = "a" * 140
    assert sms_segments.count(body).segments == 1
    assert sms_segments.count(with_opt_out_line(body, SMS_OPT_OUT_HINT)).segments == 2
