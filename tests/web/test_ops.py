"""Operations: /healthz says what is down, /metrics counts what workers sent, and logs
are JSON lines carrying bulletin and delivery ids."""

from __future__ import annotations

import io
import json
import logging
import re
import time

import pytest
import requests

from commsvc import embedded_redis, logs
from tests import factories
from tests.web.live_server import gunicorn

SEND_TIMEOUT_SECONDS = 120
METRICS_TIMEOUT_SECONDS = 30


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(_matches(found.get(k, ""), v) for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in metrics")


def _matches(value: str, wanted: str) -> bool:
    """Exact, or a prefix when `wanted` ends in * (provider names carry host and port)."""
    return value.startswith(wanted[:-1]) if wanted.endswith("*") else value == wanted


def test_healthz_reports_a_missing_worker_as_unhealthy(app, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert checks["workers"] == {"ok": False, "alive": []}


def test_healthz_reports_a_broken_redis(app, client, monkeypatch):
    import redis as redis_lib

    from commsvc import tracking

    monkeypatch.setitem(
        app.extensions,
        "commsvc_redis",
        redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1),
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"]["ok"] is False
    assert response.get_json()["checks"]["database"]["ok"] is True
    assert "commsvc_redis_up 0.0" in client.get("/metrics").get_data(as_text=True)
    assert tracking  # the client above is the one tracking reads


def test_the_web_starts_while_the_database_and_redis_are_down_and_says_so(base_env, tmp_path):
    """A web process warms up as it starts (connections, the ORM's set-up) so that an
    organiser's first click is not the slow one; with nothing to connect to, it must
    still start: /healthz names what is down and the log says what was not warmed up."""
    nothing_listening = f"127.0.0.1:{embedded_redis.free_port()}"
    env = {
        **base_env,
        "COMMSVC_DATABASE_URL": f"postgresql+psycopg://commsvc@{nothing_listening}/commsvc",
        "COMMSVC_REDIS_URL": f"redis://{nothing_listening}/0",
    }
    log = tmp_path / "web.log"
    with gunicorn(env, log, ready_path="/healthz", ready_status=503) as url:
        answer = requests.get(f"{url}/healthz", timeout=30)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"]["ok"] is False and checks["redis"]["ok"] is False
    warnings = [line for line in log.read_text().splitlines() if "not warmed up" in line]
    assert len(warnings) == 2, log.read_text()[-3000:]  # the database, and Redis


@pytest.mark.e2e
def test_metrics_count_what_a_real_worker_sent_and_healthz_sees_it(
    app, client, worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(channels="email;sms") for _ in range(6)])
    from commsvc.extensions import db
    from commsvc.models import Member

    first = db.session.query(Member).order_by(Member.id).first()
    sms_sink.reject_numbers[first.mobile] = 400  # one permanent failure
    headers = factories.api_key()
    bulletin_id = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    ).get_json()["id"]
    client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers)
    deadline = time.monotonic() + SEND_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
        if status["status"] == "sent":
            break
        time.sleep(0.2)
    assert status["status"] == "sent", status
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    assert health.get_json()["checks"]["workers"]["alive"]
    text = ""
    # A batch's counts land just after its last commit, which may be after "sent".
    deadline = time.monotonic() + METRICS_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        text = client.get("/metrics").get_data(as_text=True)
        if _counted(text, "sms") == 6 and _counted(text, "email") == 6:
            break
        time.sleep(0.2)
    assert (
        _metric(text, "commsvc_messages_total", channel="email", provider="smtp", outcome="sent")
        == 6
    )
    assert _metric(text, "commsvc_messages_total", channel="sms", outcome="permanent_failure") == 1
    assert _metric(text, "commsvc_send_latency_seconds_count", channel="email") == 6
    # Sent within the hour: counted in that bucket and every larger one.
    for le in ("3600", "7200", "+Inf"):
        assert _metric(text, "commsvc_send_latency_seconds_bucket", channel="email", le=le) == 6
    assert _metric(text, "commsvc_queue_depth", queue="email") == 0
    assert _metric(text, "commsvc_workers_alive") >= 1
    assert _metric(text, "commsvc_bulletins", status="sent") == 1


def _counted(text: str, channel: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("commsvc_messages_total{") and f'channel="{channel}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_log_lines_are_json_with_the_bulletin_and_delivery_ids():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("commsvc.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with logs.bound(bulletin_id=12):
            logger.warning("delivery failed", extra={"delivery_id": 345, "reason": "550"})
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["bulletin_id"] == 12 and first["delivery_id"] == 345
    assert first["message"] == "delivery failed" and first["level"] == "warning"
    assert first["reason"] == "550"
    assert "bulletin_id" not in second
