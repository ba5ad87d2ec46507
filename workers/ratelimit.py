"""Rate limits and provider health, kept in Redis so every worker on every machine shares them.

- A token bucket per provider (a Lua script, so taking a token is one atomic step,
  timed by the Redis server's clock rather than by each machine's).
- A concurrency limit per provider: leases in a sorted set; a lease of a killed
  worker expires on its own.
- A throttling reply (429) empties the bucket and halves its rate (at most once a
  second) for SLOWDOWN_SECONDS instead of failing the message; the message waits
  for a token and goes again.
- Health: each temporary failure of a provider lowers its share of traffic for
  COMMSVC_PROVIDER_PENALTY_SECONDS, so a provider that keeps failing is used less.

If Redis is unreachable the limits are skipped, not the sending: a lost Redis
must not stop a bulletin (the broker has then stopped delivering tasks anyway).
"""

from __future__ import annotations

import contextlib
import time
import uuid

import redis

_BUCKET = "commsvc:ratelimit:{name}"
_SLOWDOWN = "commsvc:ratelimit:{name}:slowdown"
_INFLIGHT = "commsvc:inflight:{name}"
_FAILURES = "commsvc:provider:{name}:failures"
SLOWDOWN_SECONDS = 10  # how long a 429 keeps the rate down
SLOWDOWN_EVERY_SECONDS = 1.0  # at most one halving per this, however many 429s
MAX_SLOWDOWN = 64
LEASE_SECONDS = 120
BLOCK_SECONDS = 0.1  # tokens are taken from the bucket this much of the rate at a time
MAX_BLOCK = 100

# One round trip per block of messages: hold (or take) this limiter's concurrency
# slot, leased under ARGV[5], and take up to ARGV[6] tokens. Returns {granted, wait}:
# granted > 0 when the slot is held and that many tokens were taken; otherwise wait
# is "-1" when every slot is taken, or the seconds until the next token.
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
local holding = redis.call('ZSCORE', KEYS[3], ARGV[5])
if not holding and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  return {0, '-1'}
end
local slowdown = tonumber(redis.call('HGET', KEYS[2], 'factor') or '1')
local rate = tonumber(ARGV[1]) / slowdown
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.min(tonumber(ARGV[6]), math.floor(tokens))
local wait = 0
if granted >= 1 then
  tokens = tokens - granted
  redis.call('ZADD', KEYS[3], now, ARGV[5])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
else
  granted = 0
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {granted, tostring(wait)}
"""

_SLOW_DOWN = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local state = redis.call('HMGET', KEYS[2], 'factor', 'raised')
local slowdown = tonumber(state[1]) or 1
-- Requests already in flight all come back 429 together: that is one signal, not many.
if now - (tonumber(state[2]) or 0) >= tonumber(ARGV[3]) then
  slowdown = math.min(slowdown * 2, tonumber(ARGV[1]))
  redis.call('HSET', KEYS[2], 'factor', tostring(slowdown), 'raised', tostring(now))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
end
redis.call('HSET', KEYS[1], 'tokens', '0', 'at', tostring(now))
return tostring(slowdown)
"""


class Limiter:
    """One provider's shared rate, concurrency and health."""

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        rate: float,
        concurrency: int,
        penalty_seconds: int = 300,
    ) -> None:
        self.client = client
        self.name = name
        self.rate = rate
        self.burst = max(1.0, rate)  # at most one second's worth at once
        self.concurrency = concurrency
        self.penalty_seconds = penalty_seconds
        self._acquire = client.register_script(_ACQUIRE)
        self._slow = client.register_script(_SLOW_DOWN)
        self._failures_seen = 0
        self._lease = uuid.uuid4().hex  # this limiter's concurrency slot, while held
        self._tokens = 0  # taken from the bucket, not yet spent
        self.block = max(1, min(MAX_BLOCK, int(rate * BLOCK_SECONDS)))

    def acquire(self, deadline: float) -> bool:
        """Wait for a token and a concurrency slot; False if the deadline passed first.

        Tokens are taken from the shared bucket a block at a time (a tenth of a
        second's worth, so the rate holds) and spent locally, one per message. The
        slot is held, its lease renewed with each block, until `release` at the end
        of the batch; a killed worker's slot expires after LEASE_SECONDS.
        """
        if self._tokens > 0:
            self._tokens -= 1
            return True
        keys = [
            _BUCKET.format(name=self.name),
            _SLOWDOWN.format(name=self.name),
            _INFLIGHT.format(name=self.name),
        ]
        args: list[str | float] = [
            self.rate,
            self.burst,
            self.concurrency,
            LEASE_SECONDS,
            self._lease,
            self.block,
        ]
        while True:
            try:
                granted, answer = self._acquire(keys=keys, args=args)
            except redis.RedisError:
                return True  # no Redis: no shared limits, but the sending goes on
            if int(granted) > 0:
                self._tokens = int(granted) - 1
                return True
            wait = float(answer)
            pause = 0.05 if wait < 0 else min(wait, 1.0)
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)

    def release(self) -> None:
        """Give back the slot (at the end of a batch); unspent tokens lapse with it."""
        self._tokens = 0
        with contextlib.suppress(redis.RedisError):
            self.client.zrem(_INFLIGHT.format(name=self.name), self._lease)

    def throttled(self) -> float:
        """The provider said "too many": halve its rate for a while; returns the slowdown."""
        self._tokens = 0
        keys = [_BUCKET.format(name=self.name), _SLOWDOWN.format(name=self.name)]
        try:
            return float(
                self._slow(keys=keys, args=[MAX_SLOWDOWN, SLOWDOWN_SECONDS, SLOWDOWN_EVERY_SECONDS])
            )
        except redis.RedisError:
            return 1.0

    def failed(self) -> None:
        """A temporary failure: the provider loses weight for `penalty_seconds`."""
        self._failures_seen += 1
        key = _FAILURES.format(name=self.name)
        with contextlib.suppress(redis.RedisError):
            pipe = self.client.pipeline()
            pipe.incr(key)
            pipe.expire(key, self.penalty_seconds)
            pipe.execute()

    def succeeded(self) -> None:
        """Each success earns back a little of the weight this worker's failures cost
        (no round trip at all while this worker has seen none)."""
        if not self._failures_seen:
            return
        self._failures_seen -= 1
        key = _FAILURES.format(name=self.name)
        with contextlib.suppress(redis.RedisError):
            if int(self.client.get(key) or 0) > 0:
                self.client.decr(key)


def recent_failures(client: redis.Redis, names: list[str]) -> list[int]:
    """Recent failures of each provider, in one round trip (zeros without Redis)."""
    try:
        values = client.mget([_FAILURES.format(name=n) for n in names])
    except redis.RedisError:
        return [0] * len(names)
    return [max(0, int(v or 0)) for v in values]
