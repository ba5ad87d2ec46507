"""Member CSV uploads waiting for an admin's confirmation, in `instance/imports`.

An upload holds members' personal data, so it is kept only until it is confirmed or
for a day at most: every new upload first removes the ones older than that, and beat
removes them hourly even when nobody uploads again.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

MAX_AGE_SECONDS = 24 * 3600
_NAME = re.compile(r"^[0-9a-f]{32}$")


def folder_of(instance_path: str | Path) -> Path:
    """Where uploads wait: `imports/` in the instance folder."""
    return Path(instance_path) / "imports"


def upload_path(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.csv"


def is_upload_name(name: str) -> bool:
    return bool(_NAME.match(name))


def remove_stale(folder: Path, max_age: float = MAX_AGE_SECONDS) -> int:
    """Remove uploads older than `max_age` seconds; returns how many went."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age
    removed = 0
    for path in folder.glob("*.csv"):
        if not is_upload_name(path.stem):
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # confirmed or removed by another request meanwhile
            continue
    return removed
