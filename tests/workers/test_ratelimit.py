"""The shared token bucket, concurrency slots and provider health, in real Redis."""

from __future__ import annotations

import time

from commsvc import tracking
from workers import ratelimit


def limiter(name: str = "sms_generic:test#0", rate: float = 2, concurrency: int = 1):
    return ratelimit.Limiter(tracking.client(), name, rate=rate, concurrency=concurrency)


def test_bucket_is_shared_by_every_limiter_of_a_provider(app):
    one, other = limiter(), limiter()
    now = time.monotonic()
    assert one.wait_for_token(now) and other.wait_for_token(now)  # the burst: two tokens
    assert not one.wait_for_token(time.monotonic())  # empty for everyone, no waiting allowed
    assert not other.wait_for_token(time.monotonic())
    assert limiter("another-provider").wait_for_token(time.monotonic())


def test_throttling_reply_slows_the_bucket_down(app):
    bucket = limiter(rate=10)
    assert bucket.throttled() == 2
    assert bucket.throttled() == 2  # a volley of 429s at once counts as one
    assert not bucket.wait_for_token(time.monotonic())  # drained by the 429
    assert limiter(rate=10).wait_for_token(time.monotonic() + 5)  # comes back with waiting


def test_concurrency_slots_are_shared_and_given_back(app):
    first, second = limiter(concurrency=1), limiter(concurrency=1)
    with first.slot(time.monotonic() + 1) as held:
        assert held
        with second.slot(time.monotonic()) as also:
            assert not also
    with second.slot(time.monotonic()) as held_after:
        assert held_after


def test_failures_cost_weight_and_successes_earn_it_back(app):
    provider = limiter()
    provider.failed()
    provider.failed()
    assert ratelimit.recent_failures(tracking.client(), [provider.name, "other"]) == [2, 0]
    provider.succeeded()
    assert ratelimit.recent_failures(tracking.client(), [provider.name]) == [1]
