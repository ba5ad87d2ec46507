"""One batch: claim, render, hand to a gateway, record each outcome as it comes.

The order matters for the promises: claim first (a conditional UPDATE), then for each
message send and commit its outcome before the next one is built, and check for a
pause between messages. Deliveries claimed but not attempted are released.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import select

from commsvc import liveness, metrics, providers, queueing, tracking
from commsvc.envelopes import EmailEnvelope
from commsvc.errors import ConfigError
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, id_lists
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL, Queues
from commsvc.services.bulletins import lifecycle, rendering, versions
from commsvc.services.delivery import acceptance, claims, recipients
from commsvc.statuses import BulletinStatus, DeliveryStatus
from workers.batch_claim import BatchClaim, ClaimLost
from workers.batch_members import BatchMembers
from workers.gateways.base import Gateway, Outcome, Result, SmsMessage
from workers.gateways.factory import provider_rate
from workers.outgoing import Outgoing, build_error

log = logging.getLogger(__name__)
PAUSE_CHECK_SECONDS = 0.2  # how often a batch looks for a pause between messages
# A channel this slow (messages a second, all its providers) asks the database afresh
# whether each message is still wanted, just before it goes (texts: 30 a second).
FRESH_CHECK_BELOW_RATE = 60.0
CRASH_REQUEUE_SECONDS = 5
THROTTLED_REQUEUE_SECONDS = 10
RETRY_SLACK_SECONDS = 0.5  # a retry task lands just after its deliveries fall due


@dataclass
class BatchSummary:
    claimed: int = 0
    accepted: int = 0
    failed: int = 0
    withheld: int = 0  # skipped or suppressed at send time: the member's choice changed
    released: int = 0
    retry_ids: list[int] = field(default_factory=list)
    # Sent and failed, as recorded: the task adds them to the send metrics.
    recorded: list[metrics.Recorded] = field(default_factory=list)


def send_batch(
    bulletin_id: int, delivery_ids: list[int], channel: str, gateway: Gateway[Any]
) -> BatchSummary:
    summary = BatchSummary()
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status != BulletinStatus.SENDING:
        if bulletin is not None and bulletin.status == BulletinStatus.CANCELLED:
            lifecycle.skip_cancelled_leftovers_of(bulletin_id)  # e.g. a late retry's rows
        return summary  # paused: the deliveries stay queued for a resume
    before = dict(
        db.session.execute(
            select(Delivery.id, Delivery.status).where(id_lists.among(Delivery.id, delivery_ids))
        ).all()
    )
    claimed_at, token = utcnow(), liveness.new_claim_token()
    claimed = claims.claim(bulletin_id, delivery_ids, claimed_at, token)
    # Renewed well within both limits: beat takes back a silent worker's claims after
    # COMMSVC_WORKER_DEAD_AFTER_SECONDS, anybody's after COMMSVC_STUCK_AFTER_SECONDS.
    config = current_app.config
    stuck_after = float(
        min(config["COMMSVC_STUCK_AFTER_SECONDS"], config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"])
    )
    claim = BatchClaim(claimed_at, set(claimed), stuck_after)
    summary.claimed = len(claimed)
    moves: list[tuple[str | None, str]] = [(before.get(i), DeliveryStatus.SENDING) for i in claimed]
    throttled: list[int] = []
    crashed = False
    recorder: acceptance.AcceptanceRecorder | None = None
    try:
        recorder = opened = acceptance.AcceptanceRecorder(token)
        compiled = {
            version: _compiled(bulletin.id, version, *versions.sources(bulletin, version))
            for version in (versions.ENGLISH, versions.WELSH)
        }
        topic_kind = bulletin.topic.kind
        members = BatchMembers(
            sorted(claimed),
            channel,
            bulletin.topic_id,
            topic_kind,
            PAUSE_CHECK_SECONDS,
            wanted_max_age=_wanted_max_age(channel),
        )
        messages = _messages(bulletin, channel, members, compiled, claim, summary, moves)
        for result in gateway.send(
            messages,
            ready=lambda: _ready(opened, claim),
            still_wanted=lambda delivery_id: _still_wanted(
                members, claim, delivery_id, summary, moves
            ),
        ):
            if result.outcome is Outcome.WITHDRAWN:
                continue  # an opt-out while it waited for its slot: recorded, never sent
            if result.outcome is Outcome.THROTTLED:
                throttled.append(result.delivery_id)  # not a failure: back to the queue
                continue
            recorded = _record(
                result, gateway.name, claimed[result.delivery_id], opened, token, members
            )
            status = recorded.status
            moves.append((DeliveryStatus.SENDING, status))
            summary.recorded.append(recorded)
            if status == DeliveryStatus.SENT:
                summary.accepted += 1
            else:
                summary.failed += 1
                if status == DeliveryStatus.TEMPORARY_FAILURE and claims.will_retry(
                    result.delivery_id
                ):
                    summary.retry_ids.append(result.delivery_id)
    except ClaimLost as lost:  # whatever is still ours goes back, as after a crash
        log.warning("batch of bulletin %s stopped: %s", bulletin_id, lost)
        crashed = True
    except Exception:
        # A bug or an unexpected reply must not strand the rest of the batch: the
        # message in flight waits for the stuck sweep, the others go straight back.
        log.exception("batch of bulletin %s stopped early", bulletin_id)
        crashed = True
    finally:
        # Closing may fail too (the last acceptance's commit): the release still runs.
        crashed = not _closed(recorder, gateway) or crashed
        if crashed:
            db.session.rollback()
        unattempted = [i for i in claimed if i not in claim.attempted]
        claims.release(unattempted + throttled, claim.claimed_at)
        summary.released = len(unattempted) + len(throttled)
        moves.extend(
            (DeliveryStatus.SENDING, DeliveryStatus.QUEUED) for _ in range(summary.released)
        )
        tracking.record_moves(bulletin_id, moves)
    if _cancelled(bulletin_id):  # cancelled under the batch: what it gave back is skipped
        lifecycle.skip_cancelled_leftovers_of(bulletin_id)
        return summary
    if crashed and unattempted:
        queueing.enqueue(
            SEND_TASK_FOR_CHANNEL[channel],
            bulletin_id,
            unattempted,
            countdown=CRASH_REQUEUE_SECONDS,
            queue=Queues.RETRY,
        )
    if throttled:
        queueing.enqueue(
            SEND_TASK_FOR_CHANNEL[channel],
            bulletin_id,
            throttled,
            countdown=THROTTLED_REQUEUE_SECONDS,
            queue=Queues.RETRY,
        )
    if summary.retry_ids:
        # Not before the latest retry_at: a claim takes a retry only once it is due.
        due = claims.latest_retry_at(summary.retry_ids) or utcnow()
        delay = max((due - utcnow()).total_seconds(), 0.0) + RETRY_SLACK_SECONDS
        queueing.enqueue(
            SEND_TASK_FOR_CHANNEL[channel],
            bulletin_id,
            summary.retry_ids,
            countdown=delay,
            queue=Queues.RETRY,
        )
    claims.finish_if_done(bulletin_id, after_moves=True)
    return summary


def _still_wanted(
    members: BatchMembers,
    claim: BatchClaim,
    delivery_id: int,
    summary: BatchSummary,
    moves: list[tuple[str | None, str]],
) -> bool:
    """The gateway's last question before the provider gets a message that was built
    earlier (then waited for its rate-limit slot, or was built ahead): does the member
    still get it? If not, it is withheld like any other send-time skip."""
    claim.handing_over(delivery_id)
    recipient = members.still_wanted(delivery_id)
    if recipient is None or recipient.is_sendable:
        return True
    _withhold(recipient, summary, moves)
    return False


def _wanted_max_age(channel: str) -> float:
    """How old a read may be that says a message is still wanted as it goes. A slow
    channel reads afresh for every message, so a STOP recorded a moment before its text
    goes still stops it, at a cost its rate keeps small; a fast one answers from a read
    up to PAUSE_CHECK_SECONDS old rather than read the database per message."""
    url = current_app.config.get(f"COMMSVC_{channel.upper()}_URL") or ""
    try:
        rate = sum(provider_rate(provider) for provider in providers.parse(channel, url))
    except ConfigError:  # no provider set: a gateway of the caller's own
        return PAUSE_CHECK_SECONDS
    return 0.0 if rate < FRESH_CHECK_BELOW_RATE else PAUSE_CHECK_SECONDS


def _ready(recorder: acceptance.AcceptanceRecorder, claim: BatchClaim) -> None:
    """Before the provider may accept the next message: the last acceptance is
    recorded, and the next message is still this batch's to send."""
    recorder.settle()
    claim.check()


def _record(
    result: Result,
    channel: str,
    attempts: int,
    recorder: acceptance.AcceptanceRecorder,
    token: str,
    members: BatchMembers,
) -> metrics.Recorded:
    """Record a gateway's answer; returns it as the send metrics count it."""
    provider = result.provider or channel
    if result.outcome is Outcome.ACCEPTED:
        sent_at = recorder.record(result.delivery_id, provider, result.provider_id)
        recipient = members.loaded.get(result.delivery_id)
        created_at = recipient.created_at if recipient is not None else None
        return metrics.Recorded(
            result.delivery_id, provider, DeliveryStatus.SENT, None, created_at, sent_at
        )
    failure = claims.Failure(
        result.delivery_id,
        result.outcome is Outcome.PERMANENT,
        result.reason or "no reason given",
        provider,
        claim_token=token,
    )
    config = current_app.config
    # Unconfirmed: the provider may have accepted it (the reply to the data never came).
    # A temporary failure with no retry ahead: never resent automatically.
    max_attempts = 0 if result.outcome is Outcome.UNCONFIRMED else config["COMMSVC_MAX_ATTEMPTS"]
    status = claims.record_failure(
        failure, attempts, max_attempts, config["COMMSVC_RETRY_MAX_AGE_SECONDS"]
    )
    return metrics.Recorded(result.delivery_id, provider, status, failure.reason)


def _messages(
    bulletin: Bulletin,
    channel: str,
    members: BatchMembers,
    compiled: dict[str, rendering.CompiledBulletin],
    claim: BatchClaim,
    summary: BatchSummary,
    moves: list[tuple[str | None, str]],
) -> Iterator[EmailEnvelope | SmsMessage]:
    """Build each message just before it is sent, stopping early on a pause.

    The members' current choices, suppressions and addresses are loaded when the
    batch starts and again for the rest of the batch at every pause check (and, through
    `_still_wanted`, just before each message goes), so an opt-out that lands mid-batch
    is honoured from then on (one query per check, not one per message)."""
    outgoing = Outgoing.of(bulletin, channel)
    bulletin_id = outgoing.bulletin_id
    next_pause_check = time.monotonic() + PAUSE_CHECK_SECONDS
    for delivery_id in members.ids:
        if time.monotonic() >= next_pause_check:
            if _paused(bulletin_id):
                log.info("bulletin %s paused; releasing the rest of the batch", bulletin_id)
                return
            members.refresh_if_stale()
            next_pause_check = time.monotonic() + PAUSE_CHECK_SECONDS
        recipient = members.now(delivery_id)
        if recipient is None or not claim.still_ours(delivery_id):
            continue  # the sweep gave it to another worker: not ours to send or release
        if not recipient.is_sendable:
            _withhold(recipient, summary, moves)
            continue
        try:
            message = outgoing.build(compiled, recipient)
        except Exception as error:  # one member's message must never jam the bulletin
            log.warning("delivery %s: message not built: %r", delivery_id, error)
            _fail_for_good(delivery_id, build_error(error), summary, moves)
            continue
        yield message


def _withhold(
    recipient: recipients.Recipient,
    summary: BatchSummary,
    moves: list[tuple[str | None, str]],
) -> None:
    """Record why a claimed delivery is not sent after all, and count it."""
    if recipient.address is None:  # erased or changed since fan-out
        _fail_for_good(recipient.delivery_id, "no address any more", summary, moves)
        return
    reason = recipient.reason or "the member no longer gets this bulletin"
    claims.withhold(recipient.delivery_id, recipient.status, reason)
    moves.append((DeliveryStatus.SENDING, recipient.status))
    summary.withheld += 1


def _fail_for_good(
    delivery_id: int,
    reason: str,
    summary: BatchSummary,
    moves: list[tuple[str | None, str]],
) -> None:
    """A claimed delivery that can never go (no message, no address): a permanent
    failure with its reason, never retried."""
    claims.record_failure(claims.Failure(delivery_id, True, reason), 1, 1)
    moves.append((DeliveryStatus.SENDING, DeliveryStatus.PERMANENT_FAILURE))
    summary.recorded.append(
        metrics.Recorded(delivery_id, None, DeliveryStatus.PERMANENT_FAILURE, reason)
    )
    summary.failed += 1


def _closed(recorder: acceptance.AcceptanceRecorder | None, gateway: Gateway[Any]) -> bool:
    """Close the recorder and the gateway, each whatever the other did; False if either
    failed (logged): the batch is then treated as crashed."""
    closed = True
    for close in (recorder.close if recorder else None, gateway.close):
        if close is None:
            continue
        try:
            close()
        except Exception:
            log.exception("closing a batch failed")
            closed = False
    return closed


def _cancelled(bulletin_id: int) -> bool:
    status = db.session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id))
    return status == BulletinStatus.CANCELLED


def _paused(bulletin_id: int) -> bool:
    state = tracking.get_state(bulletin_id)
    if state is None:  # Redis lost it: ask the database
        state = db.session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id))
    return state != BulletinStatus.SENDING


@lru_cache(maxsize=32)
def _compiled(
    bulletin_id: int, version: str, subject: str, email_body: str, sms_body: str
) -> rendering.CompiledBulletin:
    """Compile a bulletin's templates once per worker process, not once per batch."""
    return rendering.compile_bulletin(subject, email_body, sms_body, language=version)
