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
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from commsvc import liveness, queueing, tracking
from commsvc.envelopes import EmailEnvelope
from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Branch, Bulletin, Delivery, Employer, Member, Region
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL, Queues
from commsvc.services.bulletins import question_messages, questions, rendering, versions
from commsvc.services.bulletins.email_message import build_email, feedback_id, verp_and_dkim
from commsvc.services.bulletins.links import MemberLinks
from commsvc.services.delivery import acceptance, claims
from commsvc.statuses import BulletinStatus, DeliveryStatus
from workers.batch_claim import BatchClaim, ClaimLost
from workers.gateways.base import Gateway, Outcome, Result, SmsMessage

log = logging.getLogger(__name__)
PAUSE_CHECK_SECONDS = 0.2  # how often a batch looks for a pause between messages
CRASH_REQUEUE_SECONDS = 5
THROTTLED_REQUEUE_SECONDS = 10


@dataclass
class BatchSummary:
    claimed: int = 0
    accepted: int = 0
    failed: int = 0
    released: int = 0
    retry_ids: list[int] = field(default_factory=list)


def send_batch(
    bulletin_id: int, delivery_ids: list[int], channel: str, gateway: Gateway[Any]
) -> BatchSummary:
    summary = BatchSummary()
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status != BulletinStatus.SENDING:
        return summary  # paused or cancelled: the deliveries stay queued for a resume
    before = dict(
        db.session.execute(
            select(Delivery.id, Delivery.status).where(Delivery.id.in_(delivery_ids))
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
    recorder = acceptance.AcceptanceRecorder(token)
    try:
        compiled = {
            version: _compiled(bulletin.id, version, *versions.sources(bulletin, version))
            for version in (versions.ENGLISH, versions.WELSH)
        }
        messages = _messages(bulletin, channel, sorted(claimed), compiled, claim, summary, moves)
        for result in gateway.send(messages, ready=lambda: _ready(recorder, claim)):
            if result.outcome is Outcome.THROTTLED:
                throttled.append(result.delivery_id)  # not a failure: back to the queue
                continue
            status = _record(result, gateway.name, claimed[result.delivery_id], recorder, token)
            moves.append((DeliveryStatus.SENDING, status))
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
        recorder.close()
        gateway.close()
        unattempted = [i for i in claimed if i not in claim.attempted]
        claims.release(unattempted + throttled, claim.claimed_at)
        summary.released = len(unattempted) + len(throttled)
        moves.extend(
            (DeliveryStatus.SENDING, DeliveryStatus.QUEUED) for _ in range(summary.released)
        )
        tracking.record_moves(bulletin_id, moves)
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
        delay = claims.retry_delay(max(claimed[i] for i in summary.retry_ids))
        queueing.enqueue(
            SEND_TASK_FOR_CHANNEL[channel],
            bulletin_id,
            summary.retry_ids,
            countdown=delay,
            queue=Queues.RETRY,
        )
    claims.finish_if_done(bulletin_id)
    return summary


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
) -> str:
    provider = result.provider or channel
    if result.outcome is Outcome.ACCEPTED:
        recorder.record(result.delivery_id, provider, result.provider_id)
        return DeliveryStatus.SENT
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
    return claims.record_failure(
        failure, attempts, max_attempts, config["COMMSVC_RETRY_MAX_AGE_SECONDS"]
    )


def _messages(
    bulletin: Bulletin,
    channel: str,
    ids: list[int],
    compiled: dict[str, rendering.CompiledBulletin],
    claim: BatchClaim,
    summary: BatchSummary,
    moves: list[tuple[str | None, str]],
) -> Iterator[EmailEnvelope | SmsMessage]:
    """Build each message just before it is sent, stopping early on a pause."""
    config = current_app.config
    links = MemberLinks(config["SECRET_KEY"], config["COMMSVC_PUBLIC_URL"])
    shared = {v: versions.shared_context(bulletin, v) for v in compiled}
    version_of = {  # per member language: this channel's version of the bulletin
        language: versions.version_for(bulletin, language, channel)
        for language in (versions.ENGLISH, versions.WELSH)
    }
    domain = urlsplit(config["COMMSVC_PUBLIC_URL"]).hostname or "localhost"
    # Read once: every commit expires the bulletin, and reading it again is a query.
    bulletin_id, topic_id = bulletin.id, bulletin.topic_id
    if channel == "email":
        verp, dkim = verp_and_dkim(config)
        feedback = feedback_id(bulletin_id, bulletin.partnership_id, topic_id)
    question = questions.question_for(bulletin_id)
    reply_from = config.get("COMMSVC_SMS_REPLY_FROM") or ""
    # A text that asks for a reply must come from a number members can reply to.
    sms_from = reply_from if question is not None and reply_from else config["COMMSVC_SMS_FROM"]
    next_pause_check = time.monotonic() + PAUSE_CHECK_SECONDS
    for row in _recipients(ids):
        if time.monotonic() >= next_pause_check:
            next_pause_check = time.monotonic() + PAUSE_CHECK_SECONDS
            if _paused(bulletin_id):
                log.info("bulletin %s paused; releasing the rest of the batch", bulletin_id)
                return
        delivery_id, public_id, address = row["delivery_id"], row["public_id"], row["address"]
        if not claim.still_ours(delivery_id):  # the sweep gave it to another worker
            continue
        if not address:  # erased or changed since fan-out
            claims.record_failure(claims.Failure(delivery_id, True, "no address any more"), 1, 1)
            moves.append((DeliveryStatus.SENDING, DeliveryStatus.PERMANENT_FAILURE))
            summary.failed += 1
            continue
        version = version_of.get(row["language"], versions.ENGLISH)
        context = rendering.member_context(
            shared[version], row["member"], links, public_id, topic_id, bulletin_id
        )
        if question is not None:
            context |= question_messages.context_for(
                question, links, public_id, row["language"], channel, bool(reply_from)
            )
        try:
            if channel == "email":
                rendered = compiled[version].render_email(context)
                yield build_email(
                    rendered,
                    delivery_id=delivery_id,
                    sender=config["COMMSVC_EMAIL_FROM"],
                    recipient=address,
                    unsubscribe_url=context["unsubscribe_url"],
                    message_id_domain=domain,
                    feedback_id=feedback,
                    verp=verp,
                    dkim=dkim,
                )
            else:
                yield SmsMessage(
                    delivery_id, address, sms_from, compiled[version].render_sms(context)
                )
        except CommsvcError as error:
            claims.record_failure(claims.Failure(delivery_id, True, error.detail), 1, 1)
            moves.append((DeliveryStatus.SENDING, DeliveryStatus.PERMANENT_FAILURE))
            summary.failed += 1


def _recipients(ids: list[int]) -> Iterator[dict[str, Any]]:
    """The claimed deliveries with what rendering needs, in one query."""
    region, branch, employer = aliased(Region), aliased(Branch), aliased(Employer)
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.channel,
            Member.public_id,
            Member.email,
            Member.mobile,
            Member.first_name,
            Member.last_name,
            Member.membership_number,
            Member.workplace,
            Member.job_title,
            Member.service_group,
            Member.language,
            region.name,
            branch.name,
            employer.name,
        )
        .join(Member, Member.id == Delivery.member_id)
        .join(region, region.id == Member.region_id)
        .outerjoin(branch, branch.id == Member.branch_id)
        .outerjoin(employer, employer.id == Member.employer_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    for row in rows:
        (
            delivery_id,
            channel,
            public_id,
            email,
            mobile,
            first_name,
            last_name,
            number,
            workplace,
            job_title,
            service_group,
            language,
            region_name,
            branch_name,
            employer_name,
        ) = row
        yield {
            "delivery_id": delivery_id,
            "public_id": public_id,
            "address": email if channel == "email" else mobile,
            "language": language,
            "member": rendering.member_context_values(
                first_name=first_name,
                last_name=last_name,
                membership_number=number,
                workplace=workplace,
                job_title=job_title,
                service_group=service_group,
                region=region_name,
                branch=branch_name or "",
                employer=employer_name or "",
            ),
        }


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
