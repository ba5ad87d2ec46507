"""Times as people in the UK read and type them; the database keeps naive UTC.

Organisers and members are in the UK, so every time a page, an email or a text shows
is Europe/London time with its zone ("GMT" or "BST") beside it, and every time typed
into a form is read as UK time. Two moments a year need a rule:

- the hour that does not exist (clocks go forward, last Sunday of March, 01:00-01:59)
  is refused with a message saying so;
- the hour that happens twice (clocks go back, last Sunday of October, 01:00-01:59)
  is read as the first one, still summer time (BST); the page then shows "(BST)" so
  the organiser sees which was taken.

This module only converts and words times; it never reads the clock to judge them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date

from commsvc.errors import ValidationError

UK = ZoneInfo("Europe/London")


@lru_cache(maxsize=256)
def for_people(moment: datetime, language: str = "en") -> str:
    """A naive UTC time in UK time, with its zone: "9:30am (GMT) on Tuesday 1 December
    2026", or in Welsh "9:30 (GMT) ddydd Mawrth 1 Rhagfyr 2026".

    Cached: a bulk send words the same closing time for every member of a batch."""
    local = moment.replace(tzinfo=UTC).astimezone(UK)
    zone = local.tzname() or ""
    if language == "cy":
        day = format_date(local.date(), "EEEE d MMMM y", locale="cy")
        return f"{local:%H:%M} ({zone}) {day}"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}:{local:%M}{suffix} ({zone}) on {local:%A} {local.day} {local:%B %Y}"


def short(moment: datetime, seconds: bool = False) -> str:
    """For tables: "01/12/2026 09:30 GMT" (UK time, with its zone)."""
    local = moment.replace(tzinfo=UTC).astimezone(UK)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local:%d/%m/%Y} {clock} {local.tzname()}"


def day(moment: datetime) -> str:
    """The UK date of a moment: "01/12/2026" (23:30 UTC in summer is the next day)."""
    return f"{moment.replace(tzinfo=UTC).astimezone(UK):%d/%m/%Y}"


def clock(moment: datetime) -> str:
    """For a chart's axis: "09:30:15 GMT"."""
    local = moment.replace(tzinfo=UTC).astimezone(UK)
    return f"{local:%H:%M:%S} {local.tzname()}"


def parse_form(day: str, clock: str, *, day_field: str, time_field: str) -> datetime:
    """A date ("2026-12-01") and a time ("09:30") typed in UK time, as naive UTC.

    Refuses a time in the hour the clocks skip; takes the first (BST) of the hour that
    happens twice. Errors name the form field they belong to."""
    try:
        local_day = date.fromisoformat(day.strip())
    except ValueError:
        raise ValidationError("Enter a date, for example 25/12/2026.", field=day_field) from None
    try:
        local_time = time.fromisoformat(clock.strip())
    except ValueError:
        raise ValidationError("Enter a time, for example 09:30.", field=time_field) from None
    return _to_utc(local_day, local_time, time_field)


def parse_local(value: str, field: str) -> datetime:
    """A browser's datetime-local value ("2026-12-01T09:30") in UK time, as naive UTC."""
    day, _, clock = value.strip().partition("T")
    return parse_form(day, clock, day_field=field, time_field=field)


def form_fields(moment: datetime | None) -> tuple[str, str]:
    """The date and time inputs' values (UK time) for a naive UTC time."""
    if moment is None:
        return "", ""
    local = moment.replace(tzinfo=UTC).astimezone(UK)
    return f"{local:%Y-%m-%d}", f"{local:%H:%M}"


def form_local(moment: datetime | None) -> str:
    """A datetime-local input's value (UK time) for a naive UTC time."""
    day, clock = form_fields(moment)
    return f"{day}T{clock}" if day else ""


def _to_utc(local_day: date, local_time: time, field: str) -> datetime:
    # fold=0: in the repeated hour the first pass (BST) is meant.
    local = datetime.combine(
        local_day, local_time.replace(second=0, microsecond=0), tzinfo=UK
    ).replace(fold=0)
    moment = local.astimezone(UTC)
    if moment.astimezone(UK).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"{local_time:%H:%M} does not exist in the UK on {local_day.day} "
            f"{local_day:%B %Y}: the clocks go forward from 1am to 2am. Choose another time.",
            field=field,
        )
    return moment.replace(tzinfo=None)
