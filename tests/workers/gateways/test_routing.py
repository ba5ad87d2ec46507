"""Several providers per channel: failover, weights that shrink with failures, 429s."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from flask import Flask

from commsvc import redis_store
from workers import ratelimit
from workers.gateways import sms_gateway
from workers.gateways.base import Outcome, SmsMessage


def use_sms_url(app: Flask, url: str) -> None:
    app.config["COMMSVC_SMS_URL"] = url
    app.config["COMMSVC_SMS_RATE"] = 1000


def messages(count: int) -> list[SmsMessage]:
    return [SmsMessage(n, f"+4479112{n:05d}", "UNION", "x") for n in range(count)]


def accept(received):
    return 200, {"id": "ok-" + received.json()["reference"]}


def test_failing_provider_fails_over_and_loses_weight(app, loopback):
    broken = loopback(lambda r: (500, {"error": "down"}))
    working = loopback(accept)
    use_sms_url(app, f"{broken.base}/send;weight=5,{working.base}/send;weight=1")
    gateway = sms_gateway()
    results = list(gateway.send(messages(30)))
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 30
    assert sorted(int(r.json()["reference"]) for r in working.received) == list(range(30))
    # Despite five times the weight, the broken provider was tried ever less often.
    assert len(broken.received) < 15
    names = [route.provider.name for route in gateway.routes]
    failures = ratelimit.recent_failures(redis_store.client(), names)
    assert failures[0] > 0 and failures[1] == 0


def test_weights_share_traffic_between_healthy_providers(app, loopback):
    first, second = loopback(accept), loopback(accept)
    use_sms_url(app, f"{first.base}/send;weight=3,{second.base}/send;weight=1")
    results = list(sms_gateway().send(messages(200)))
    assert Counter(r.outcome for r in results) == {Outcome.ACCEPTED: 200}
    assert len(first.received) > len(second.received) > 0


def test_throttled_message_waits_and_goes_again_rather_than_failing(app, loopback):
    answers = itertools.chain([(429, {"error": "slow down"})] * 2, itertools.repeat(None))

    def sometimes_busy(received):
        return next(answers) or accept(received)

    server = loopback(sometimes_busy)
    use_sms_url(app, f"{server.base}/send")
    results = list(sms_gateway().send(messages(3)))
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 3
    assert [r.json()["reference"] for r in server.received] == ["0", "0", "0", "1", "2"]


@pytest.mark.parametrize("status", [400, 404])
def test_permanent_refusal_is_not_tried_on_another_provider(app, loopback, status):
    refusing = loopback(lambda r: (status, {"error": "invalid number"}))
    other = loopback(accept)
    use_sms_url(app, f"{refusing.base}/send;weight=1000,{other.base}/send;weight=1")
    gateway = sms_gateway()
    gateway.routes.sort(key=lambda route: -route.provider.weight)
    results = [gateway.send_one(m) for m in messages(1)]
    if refusing.received:
        assert results[0].outcome is Outcome.PERMANENT and not other.received
    else:  # the 1-in-1001 draw: the other provider took it
        assert results[0].outcome is Outcome.ACCEPTED


def test_each_email_is_built_ahead_while_the_server_answers_the_one_before(app, email_sink):
    from tests.workers.gateways.test_http_email import envelope
    from workers.gateways import email_gateway

    built: list[int] = []

    def batch():
        for n in range(1, 4):
            built.append(n)
            yield envelope(n, f"m{n}@example.org")

    gateway = email_gateway().send(batch())
    assert next(gateway).outcome is Outcome.ACCEPTED
    # The second was built before the first went (its envelope goes with the first's
    # data), the third while the first was being answered.
    assert built == [1, 2, 3]
    assert [r.outcome for r in gateway] == [Outcome.ACCEPTED] * 2
    assert [m["To"] for m in email_sink.parsed()] == [f"m{n}@example.org" for n in (1, 2, 3)]


def test_a_message_that_cannot_be_built_never_costs_the_one_before_its_result(app, email_sink):
    from tests.workers.gateways.test_http_email import envelope
    from workers.gateways import email_gateway

    def batch():
        yield envelope(1, "first@example.org")
        raise RuntimeError("the second member's template broke")

    gateway = email_gateway().send(batch())
    assert next(gateway).outcome is Outcome.ACCEPTED  # handed on before the error
    with pytest.raises(RuntimeError, match="template broke"):
        next(gateway)
    assert [m["To"] for m in email_sink.parsed()] == ["first@example.org"]


def test_a_message_no_longer_wanted_after_its_rate_wait_is_withdrawn_unsent(app, loopback):
    """The caller's last word comes after the token: a withdrawn message never reaches
    the provider, and the others still go."""
    server = loopback(accept)
    use_sms_url(app, f"{server.base}/send")
    asked: list[int] = []

    def still_wanted(delivery_id: int) -> bool:
        asked.append(delivery_id)
        return delivery_id != 2

    results = list(sms_gateway().send(messages(4), still_wanted=still_wanted))
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 2 + [
        Outcome.WITHDRAWN,
        Outcome.ACCEPTED,
    ]
    assert sorted(int(r.json()["reference"]) for r in server.received) == [0, 1, 3]
    assert asked == [0, 1, 2, 3]
