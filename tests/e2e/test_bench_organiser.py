"""The client `bench.send` times its headline figure with (bench/organiser.py), against
the real `commsvc web` and a real worker: the moment it takes as "sent" is one where
every member already has their email, and each of its polls is in the latency figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import common
from bench.organiser import Organiser
from commsvc.embedded_redis import free_port
from commsvc.services.accounts import auth
from tests import factories

pytestmark = pytest.mark.e2e
SEND_TIMEOUT_SECONDS = 120


@pytest.fixture
def web(env: dict[str, str], worker: object, tmp_path: Path) -> Iterator[str]:
    """`commsvc web` as bench.send starts it; yields its base URL."""
    port = free_port()
    running = common.Stack(env=env, workdir=tmp_path, redis=None)  # type: ignore[arg-type]
    try:
        common.start_web(running, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in running.workers:
            common.stop(process)


def test_the_bench_reads_sent_only_when_every_member_has_their_email(app, web, email_sink):
    partnership = factories.partnership()
    factories.topics("bargaining")
    addresses = factories.bulk_members(40)
    _key, plain = auth.create_api_key("bench", "organiser", [factories.REGION])
    organiser = Organiser(web, plain)

    bulletin_id = organiser.create_bulletin(
        factories.bulletin_body(partnership.id, channels=["email"])
    )
    watched = organiser.send_and_watch(bulletin_id, SEND_TIMEOUT_SECONDS)

    assert watched.last["status"] == "sent"
    assert watched.last["counts"] == {"sent": len(addresses)}
    assert sorted(str(m["To"]) for m in email_sink.parsed()) == sorted(addresses)
    latency = watched.latency_summary()
    assert latency["polls"] == len(watched.latencies_ms) > 0
    assert latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"]
