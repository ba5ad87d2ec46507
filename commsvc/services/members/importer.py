"""Member CSV import: streamed, validated per row, upserted one chunk per transaction.

A bad row is reported with its line number and reason and changes nothing; good rows
land even when others are bad. A crash part-way leaves whole chunks committed, and
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

    @property
    def ok(self) -> bool:
        return not self.errors


def import_members(
    stream: IO[bytes],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import members from a CSV byte stream; see the module docstring for the rules."""
    report = ImportReport()
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationError("The file is empty: it needs the header line first.") from None
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text. Save it as CSV UTF-8.") from None
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
    for line, values in _rows(reader, report):
        report.rows += 1
        if len(values) != len(header):
            report.errors.append(
                RowError(line, f"expected {len(header)} fields, found {len(values)}")
            )
            continue
        try:
            member = validate_member(dict(zip(header, values, strict=True)))
        except CommsvcError as error:
            report.errors.append(RowError(line, error.detail))
            continue
        if member.membership_number in seen:
            report.errors.append(
                RowError(
                    line,
                    f"membership_number {member.membership_number} appears earlier in the file",
                )
            )
            continue
        seen.add(member.membership_number)
        chunk.append((line, member))
        if len(chunk) >= CHUNK_ROWS:
            _land(chunk, report, dry_run, lookups)
            chunk = []
            chunks += 1
            if chunks & (chunks - 1) == 0:  # after chunks 1, 2, 4, 8, ...
                _refresh_statistics()
            if progress:
                progress(report.rows)
    _land(chunk, report, dry_run, lookups)
    if progress:
        progress(report.rows)
    report.errors.sort(key=lambda e: e.line)
    return report


def _refresh_statistics() -> None:
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


def _rows(reader: Iterator[list[str]], report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, values), turning unreadable lines into row errors."""
    while True:
        line = reader.line_num + 1  # type: ignore[attr-defined]
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            report.errors.append(RowError(line, "this line is not UTF-8 text"))
            return
        except csv.Error as error:
            report.errors.append(RowError(line, f"this line is not valid CSV: {error}"))
            return
        if not any(v.strip() for v in values):
            continue
        if sum(len(v) for v in values) > MAX_LINE_BYTES:
            report.rows += 1
            report.errors.append(RowError(line, "this line is too long"))
            continue
        yield line, values


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
