"""Beat removes member uploads nobody confirmed within a day, even when nobody uploads
again: an upload is a file of members' personal data."""

from __future__ import annotations

import os
import time

from commsvc.services.members import uploads
from workers.tasks.sweeps import sweep_stale_uploads


def test_beat_removes_a_day_old_unconfirmed_upload_and_keeps_a_fresh_one(app):
    folder = uploads.folder_of(app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / ("c" * 32 + ".csv"), folder / ("d" * 32 + ".csv")
    other = folder / "notes.csv"  # not an upload's name: never touched
    for path in (stale, fresh, other):
        path.write_text("membership_number\nM1\n")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (stale, other):
        os.utime(path, (two_days_ago, two_days_ago))
    assert sweep_stale_uploads() == 1
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    for path in (fresh, other):
        path.unlink()
