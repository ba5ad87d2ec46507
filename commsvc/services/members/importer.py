"""Member CSV import: streamed, validated per row, upserted one chunk per transaction.

A bad row is reported with its line number and reason and changes nothing; good rows
land even when others are bad. A row with one unusable address or channel lands with
what the member can use and is reported as a warning (see `records.validate_member`).
A crash part-way leaves whole chunks committed, and
running the same file again finishes the job without changing what already landed.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import text

from commsvc.errors import CommsvcError, ValidationError
from commsvc.extensions import db
from commsvc.services.members.records import FIELDS, MemberInput, validate_member
from commsvc.services.members.upsert import Lookups, upsert_chunk

log = logging.getLogger(__name__)
CHUNK_ROWS = 500
MAX_LINE_BYTES = 64 * 1024


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # rows kept, something left out

    @property
    def ok(self) -> bool:
        """Warnings do not count: those members landed with what they can use."""
        return not self.errors


def import_members(
    stream: IO[bytes],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import members from a CSV byte stream; see the module docstring for the rules."""
    report = ImportReport()
    # Undecodable bytes survive decoding as surrogates, so one bad line is reported
    # alone (by `FileLines`) instead of stopping the whole file where it was read.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = FileLines(text)
    reader = csv.reader(lines)
    try:
        first: list[str] | None = next(reader)
    except StopIteration:
        first = None
    except csv.Error as error:
        raise ValidationError(f"The header line is not valid CSV: {error}") from None
    if lines.undecodable:
        raise ValidationError("The file is not UTF-8 text. Save it as CSV UTF-8.")
    if first is None:
        raise ValidationError("The file is empty: it needs the header line first.")
    header = [h.strip().lower() for h in first]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise ValidationError(
            "The header line is missing the columns: "
            + ", ".join(missing)
            + ". Expected: "
            + ",".join(FIELDS)
        )
    seen: set[str] = set()
    lookups = Lookups()
    chunks = 0
    chunk: list[tuple[int, MemberInput]] = []
    for line, values in _rows(reader, lines, report, len(header)):
        report.rows += 1
        if len(values) != len(header):
            report.errors.append(
                RowError(line, f"expected {len(header)} fields, found {len(values)}")
            )
            continue
        raw = dict(zip(header, values, strict=True))
        # A repeated number is an error on its later line whatever became of the first.
        number = " ".join(raw["membership_number"].split())
        if number and number in seen:
            report.errors.append(
                RowError(line, f"membership_number {number} appears earlier in the file")
            )
            continue
        seen.add(number)
        try:
            member = validate_member(raw)
        except CommsvcError as error:
            report.errors.append(RowError(line, error.detail))
            continue
        report.warnings.extend(RowError(line, warning) for warning in member.warnings)
        chunk.append((line, member))
        if len(chunk) >= CHUNK_ROWS:
            _land(chunk, report, dry_run, lookups)
            chunk = []
            chunks += 1
            if chunks & (chunks - 1) == 0:  # after chunks 1, 2, 4, 8, ...
                refresh_statistics()
            if progress:
                progress(report.rows)
    _land(chunk, report, dry_run, lookups)
    if progress:
        progress(report.rows)
    report.errors.sort(key=lambda e: e.line)
    report.warnings.sort(key=lambda e: e.line)
    return report


def refresh_statistics() -> None:
    """Tell PostgreSQL how big the tables have grown, as after any bulk load.

    Its plans for the per-chunk lookups were made when the tables were small (and
    are kept by prepared statements); without fresh statistics they stay sequential
    scans, and an import into an empty database slows down as it grows.
    """
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(
        text("ANALYZE members, member_partnerships, topic_preferences, consent_records")
    )
    db.session.commit()


def _rows(
    reader: Iterator[list[str]], lines: FileLines, report: ImportReport, width: int
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, values); an unreadable line is a row error and the rest goes on.

    A record that fails across several physical lines (a quote never closed swallows
    the lines after it) is reported on its first line, and the lines after it are read
    again on their own, so no good row is lost to a neighbour's mistake.
    """
    while True:
        lines.start_record()
        try:
            values: list[str] | None = next(reader)
        except StopIteration:
            values = None
        except csv.Error as error:
            _report_unreadable(lines, report, f"this line is not valid CSV: {error}")
            continue
        _report_undecodable(lines, report)
        if values is None or not lines.taken:
            return
        line = lines.taken[0][0]
        if len(lines.taken) > 1 and len(values) != width:
            _report_unreadable(lines, report, 'this line has a quote (") that is never closed')
            continue
        if not any(v.strip() for v in values):
            continue
        if sum(len(v) for v in values) > MAX_LINE_BYTES:
            report.rows += 1
            report.errors.append(RowError(line, "this line is too long"))
            continue
        yield line, values


class FileLines:
    """The file's physical lines for the csv reader: numbered, checked for UTF-8, and
    able to give back the lines of a record that turned out to be unreadable."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._given_back: list[tuple[int, str]] = []
        self._count = 0
        self.taken: list[tuple[int, str]] = []  # (number, line) of the current record
        self.undecodable: list[int] = []

    def __iter__(self) -> FileLines:
        return self

    def __next__(self) -> str:
        while True:
            if self._given_back:
                number, line = self._given_back.pop()
            else:
                line = self._text.readline()
                if not line:
                    raise StopIteration
                self._count += 1
                number = line_number = self._count
                if _has_undecodable_bytes(line):
                    self.undecodable.append(line_number)
                    continue
            self.taken.append((number, line))
            return line

    def start_record(self) -> None:
        self.taken = []

    def give_back_all_but_first(self) -> None:
        """Read the current record's later lines again, each from its own start."""
        self._given_back.extend(reversed(self.taken[1:]))
        self.taken = self.taken[:1]


def _has_undecodable_bytes(line: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in line)


def _report_unreadable(lines: FileLines, report: ImportReport, reason: str) -> None:
    _report_undecodable(lines, report)
    if not lines.taken:
        return
    report.rows += 1
    report.errors.append(RowError(lines.taken[0][0], reason))
    lines.give_back_all_but_first()


def _report_undecodable(lines: FileLines, report: ImportReport) -> None:
    for number in lines.undecodable:
        report.rows += 1
        report.errors.append(RowError(number, "this line is not UTF-8 text"))
    lines.undecodable.clear()


def _land(
    chunk: list[tuple[int, MemberInput]], report: ImportReport, dry_run: bool, lookups: Lookups
) -> None:
    """Upsert one chunk in one transaction; a row the database refuses is reported alone."""
    if not chunk:
        return
    try:
        outcomes = upsert_chunk([data for _line, data in chunk], lookups, source="import")
        if dry_run:
            db.session.rollback()
            lookups.reset()  # names created inside the rolled-back chunk are gone again
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        lookups.reset()
        log.exception("import chunk refused; retrying its rows one by one")
        if len(chunk) == 1:
            report.errors.append(RowError(chunk[0][0], "the database refused this row"))
            return
        for item in chunk:  # find the row the database refused; keep the others
            _land([item], report, dry_run, lookups)
        return
    report.created += outcomes.count("created")
    report.updated += outcomes.count("updated")
    report.unchanged += outcomes.count("unchanged")
