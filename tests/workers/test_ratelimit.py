"""The shared token bucket, concurrency slots and provider health, in real Redis."""

from __future__ import annotations

import time

from commsvc import redis_store
from workers import ratelimit


def limiter(name: str = "sms_generic:test#0", rate: float = 2, concurrency: int = 10):
    return ratelimit.Limiter(redis_store.client(), name, rate=rate, concurrency=concurrency)


def take(bucket: ratelimit.Limiter, wait: float = 0) -> bool:
    allowed = bucket.acquire(time.monotonic() + wait)
    bucket.release()
    return allowed


def test_bucket_is_shared_by_every_limiter_of_a_provider(app):
    one, other = limiter(), limiter()
    assert take(one) and take(other)  # the burst: two tokens
    assert not take(one)  # empty for everyone, when no waiting is allowed
    assert not take(other)
    assert take(limiter("another-provider"))
    assert take(one, wait=5)  # a token comes with waiting


def test_throttling_reply_slows_the_bucket_down(app):
    bucket = limiter(rate=10)
    assert bucket.throttled() == 2
    assert bucket.throttled() == 2  # a volley of 429s at once counts as one
    assert not take(bucket)  # drained by the 429
    assert take(limiter(rate=10), wait=5)


def test_concurrency_slots_are_shared_and_given_back(app):
    first, second = limiter(rate=100, concurrency=1), limiter(rate=100, concurrency=1)
    assert first.acquire(time.monotonic() + 1)
    assert not take(second)
    assert first.acquire(time.monotonic() + 1)  # its next message: the same one slot
    assert not take(second)
    first.release()  # the end of its batch
    assert take(second)


def test_failures_cost_weight_and_successes_earn_it_back(app):
    provider = limiter()
    provider.failed()
    provider.failed()
    assert ratelimit.recent_failures(redis_store.client(), [provider.name, "other"]) == [2, 0]
    provider.succeeded()
    assert ratelimit.recent_failures(redis_store.client(), [provider.name]) == [1]


def test_tokens_come_a_block_at_a_time_and_the_shared_rate_still_holds(app):
    # Two workers' limiters on one provider at 50 a second: each takes a tenth of a
    # second's worth per round trip, and together they get no more than the bucket.
    one = limiter("email:fast#0", rate=50, concurrency=10)
    other = limiter("email:fast#0", rate=50, concurrency=10)
    assert one.block == other.block == 5
    granted = 0
    for _ in range(200):  # bounded: far more than the bucket holds
        took = [bucket.acquire(time.monotonic()) for bucket in (one, other)]
        granted += sum(took)
        if not any(took):
            break
    one.release()
    other.release()
    assert 50 <= granted <= 60  # the burst, plus what refilled while asking
