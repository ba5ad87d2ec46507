"""UK time in and out: what organisers type and what members read, across clock changes."""

from __future__ import annotations

from datetime import datetime

import pytest

from commsvc import uk_time
from commsvc.errors import ValidationError


@pytest.mark.parametrize(
    ("day", "clock", "utc"),
    [
        ("2026-12-01", "09:30", datetime(2026, 12, 1, 9, 30)),  # GMT: UTC+0
        ("2026-07-01", "09:30", datetime(2026, 7, 1, 8, 30)),  # BST: UTC+1
        ("2027-03-28", "00:30", datetime(2027, 3, 28, 0, 30)),  # before the clocks go forward
        ("2027-03-28", "02:30", datetime(2027, 3, 28, 1, 30)),  # after
        ("2026-10-25", "01:30", datetime(2026, 10, 25, 0, 30)),  # twice that night: the first
        ("2026-10-25", "02:00", datetime(2026, 10, 25, 2, 0)),  # after the clocks went back
    ],
)
def test_uk_times_are_stored_in_utc_across_clock_changes(day, clock, utc):
    assert uk_time.parse_form(day, clock, day_field="d", time_field="t") == utc
    assert uk_time.parse_local(f"{day}T{clock}", "at") == utc


def test_an_hour_that_does_not_exist_in_the_uk_is_refused_by_its_field():
    with pytest.raises(ValidationError, match="does not exist in the UK") as refused:
        uk_time.parse_form("2027-03-28", "01:30", day_field="send_date", time_field="send_time")
    assert refused.value.extra["field"] == "send_time"
    assert "clocks go forward" in refused.value.detail


def test_the_repeated_hour_shows_that_summer_time_was_taken():
    taken = uk_time.parse_local("2026-10-25T01:30", "question_closes_at")
    assert uk_time.for_people(taken) == "1:30am (BST) on Sunday 25 October 2026"


def test_times_are_shown_in_uk_time_with_their_zone():
    assert uk_time.for_people(datetime(2026, 7, 1, 8, 30)) == (
        "9:30am (BST) on Wednesday 1 July 2026"
    )
    assert uk_time.for_people(datetime(2026, 12, 1, 13, 5)) == (
        "1:05pm (GMT) on Tuesday 1 December 2026"
    )
    assert uk_time.for_people(datetime(2026, 7, 1, 8, 30), "cy") == (
        "09:30 (BST) Dydd Mercher 1 Gorffennaf 2026"
    )


def test_table_times_and_dates_are_uk_ones():
    late_summer_evening = datetime(2026, 7, 1, 23, 30)  # 00:30 BST on 2 July
    assert uk_time.short(late_summer_evening) == "02/07/2026 00:30 BST"
    assert uk_time.day(late_summer_evening) == "02/07/2026"
    assert uk_time.form_local(late_summer_evening) == "2026-07-02T00:30"
