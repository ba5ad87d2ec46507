"""Schedules live in the database and are started by beat's sweep: once, even with two
beat processes and two workers racing, and late ones after downtime say so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, Member
from commsvc.models.base import utcnow
from commsvc.services.bulletins import lifecycle
from commsvc.services.delivery import sweeps
from tests import factories
from tests.conftest import start_worker, stop_process

SWEEP_WAIT_SECONDS = 120  # the beat sweep runs every SWEEP_EVERY seconds here
SWEEP_EVERY = "2"


@pytest.fixture
def audience(app):
    partnership = factories.partnership()
    factories.topics()
    rows = [factories.member_row(channels="email;sms") for _ in range(30)]
    assert factories.import_rows(rows).ok
    return partnership


def test_an_overdue_schedule_is_started_and_noted_as_late(audience):
    bulletin = factories.bulletin(audience.id)
    lifecycle.send(factories.organiser(), bulletin, utcnow() + timedelta(hours=1))
    # The machine was down: the time passed without a sweep.
    bulletin.scheduled_for = utcnow() - timedelta(minutes=90)
    db.session.commit()
    assert sweeps.start_due_bulletins() == 1
    assert sweeps.start_due_bulletins() == 0
    step = lifecycle.history(bulletin.id)[-1]
    assert (step.from_status, step.to_status, step.actor) == ("scheduled", "sending", "schedule")
    assert step.note == "started 90 minutes late"


def test_a_schedule_not_yet_due_waits(audience):
    bulletin = factories.bulletin(audience.id)
    lifecycle.send(factories.organiser(), bulletin, utcnow() + timedelta(hours=1))
    assert sweeps.start_due_bulletins() == 0
    assert db.session.get(Bulletin, bulletin.id).status == "scheduled"


@pytest.mark.e2e
def test_schedule_fires_once_with_two_beats_and_two_workers(
    audience, client, env, session_dir, email_sink, sms_sink
):
    headers = factories.api_key()
    on_time = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(audience.id), headers=headers
    ).get_json()
    overdue = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(audience.id, title="Overdue", subject="Late news"),
        headers=headers,
    ).get_json()
    when = (utcnow() + timedelta(seconds=3)).isoformat() + "Z"
    for created in (on_time, overdue):
        response = client.post(
            f"/api/v1/bulletins/{created['id']}/send", json={"scheduled_for": when}, headers=headers
        )
        assert response.get_json()["status"] == "scheduled"
    late = db.session.get(Bulletin, overdue["id"])
    late.scheduled_for = utcnow() - timedelta(minutes=30)  # as if beat had been down
    db.session.commit()

    processes = []
    try:
        processes.append(start_worker(env))
        processes.append(start_worker(env))
        for n in (1, 2):
            instance = session_dir / f"beat-{n}"
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "commsvc", "beat", "--loglevel", "warning"],
                    env={
                        **os.environ,
                        **env,
                        "COMMSVC_INSTANCE_PATH": str(instance),
                        "COMMSVC_SCHEDULE_SWEEP_SECONDS": SWEEP_EVERY,
                    },
                )
            )
        deadline = time.monotonic() + SWEEP_WAIT_SECONDS
        statuses: list[str] = []
        while time.monotonic() < deadline:
            # The test's requests share its session: end its transaction so each look
            # is fresh, as a real request's would be (else it keeps its first snapshot).
            db.session.rollback()
            statuses = [
                client.get(f"/api/v1/bulletins/{b['id']}", headers=headers).get_json()["status"]
                for b in (on_time, overdue)
            ]
            if statuses == ["sent", "sent"]:
                break
            time.sleep(0.5)
        assert statuses == ["sent", "sent"]
    finally:
        for process in processes:
            stop_process(process)

    members = Member.query.all()
    emails = Counter((str(m["To"]), str(m["Subject"])[:9]) for m in email_sink.parsed())
    texts = Counter(t["to"] for t in sms_sink.messages)
    assert len(emails) == 2 * len(members) and set(emails.values()) == {1}
    assert set(texts) == {m.mobile for m in members} and set(texts.values()) == {2}
    for created, note in ((on_time, "started on schedule"), (overdue, "started 30 minutes late")):
        history = client.get(f"/api/v1/bulletins/{created['id']}", headers=headers).get_json()[
            "history"
        ]
        starts = [h for h in history if (h["from"], h["to"]) == ("scheduled", "sending")]
        assert len(starts) == 1 and starts[0]["note"] == note and starts[0]["actor"] == "schedule"
