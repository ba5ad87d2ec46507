"""What the benchmarks print: a figure / target table written also as JSON, and a
py-spy profile of the workers boiled down to where the CPU goes."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
Row = tuple[str, str, str]  # figure, value, target


def report(name: str, rows: list[tuple[str, str, str]], data: dict[str, Any]) -> Path:
    """Print a figure / target table and write the same figures as JSON."""
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print()
    print(f"{'figure'.ljust(width)}  {'value'.rjust(value_width)}  target")
    print(f"{'-' * width}  {'-' * value_width}  ------")
    for label, value, target in rows:
        print(f"{label.ljust(width)}  {value.rjust(value_width)}  {target}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps({"bench": name, "at": stamp, **data}, indent=2, default=str))
    print(f"\nJSON: {path}")
    return path


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


@contextlib.contextmanager
def profiled(process: subprocess.Popen[bytes], out: Path | None) -> Iterator[None]:
    """Sample a worker and its children with py-spy (collapsed stacks) while it runs.

    Only samples holding the GIL count (`--gil`): a process waiting for a socket or
    the database is not using the CPU, and counting it would hide where the CPU goes."""
    if out is None:
        yield
        return
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(process.pid),
            "--subprocesses",
            "--format",
            "raw",
        ]
        + ["--rate", "200", "--gil", "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(2)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(timeout=10)


def summarise_profile(path: Path, top: int = 20) -> list[tuple[str, float, float]]:
    """(function, % self, % inclusive) of busy samples, from py-spy's raw output.

    Idle frames (waiting for a task or a reply) are left out, so the shares say where
    the CPU goes; frames outside commsvc, workers, the database, SMTP and Redis
    clients are folded into their callers.
    """
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [f for f in stack.split(";")[1:] if _interesting(f)]
        if not frames or not count_text.isdigit():
            continue
        count = int(count_text)
        busy += count
        leaf[frames[-1]] = leaf.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    ranked = sorted(inclusive, key=lambda f: -inclusive[f])[:top]
    return [(f, 100 * leaf.get(f, 0) / busy, 100 * inclusive[f] / busy) for f in ranked]


_INTERESTING = ("commsvc/", "workers/", "sqlalchemy/", "psycopg/", "smtplib", "redis/", "jinja2/")


def _interesting(frame: str) -> bool:
    return any(part in frame for part in _INTERESTING) and "celery/" not in frame
