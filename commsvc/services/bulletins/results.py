"""A question's results: turnout and counts per choice, never who answered what.

Eligible members are those whose delivery of the bulletin reached the gateway (on any
channel). Breakdowns by service group and employer report each cell of 1 to 4 answers
as None ("fewer than 5"), so no small group's answers single anyone out; a second
cell is hidden where one alone could be worked back from the overall count. Only answers
given before the close exist (`questions.record_answer` refuses later ones); the
count still stops at the close, so an early close is honoured here too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import Answer, Bulletin, Delivery, Employer, Member
from commsvc.services.bulletins.questions import RECEIVED, question_for

SMALL_CELL = 5  # cells below this (and above 0) are hidden
UNKNOWN_EMPLOYER = "(no employer)"


def results(bulletin: Bulletin) -> dict[str, Any]:
    question = question_for(bulletin.id)
    if question is None:
        raise ValidationError(f"Bulletin {bulletin.id} has no question.")
    eligible = int(
        db.session.scalar(
            select(func.count(distinct(Delivery.member_id))).where(
                Delivery.bulletin_id == bulletin.id,
                Delivery.status.in_([str(s) for s in RECEIVED]),
            )
        )
        or 0
    )
    rows = db.session.execute(
        select(Answer.choice, Member.service_group, Employer.name)
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(Employer, Employer.id == Member.employer_id)
        .where(Answer.question_id == question.id, Answer.answered_at < question.closed_at)
    ).all()
    choices = {choice: 0 for choice in question.choices}
    by_group: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(question.choices, 0))
    by_employer: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(question.choices, 0))
    for index, group, employer in rows:
        if not 0 <= index < len(question.choices):
            continue
        choice = question.choices[index]
        choices[choice] += 1
        by_group[group][choice] += 1
        by_employer[employer or UNKNOWN_EMPLOYER][choice] += 1
    responded = sum(choices.values())
    return {
        "question": question.text,
        "kind": question.kind,
        "open": question.is_open(),
        "closes_at": question.closed_at.isoformat() + "Z",
        "eligible": eligible,
        "responded": responded,
        "turnout": round(responded / eligible, 4) if eligible else 0.0,
        "choices": choices,
        "by_service_group": _hide_small(by_group),
        "by_employer": _hide_small(by_employer),
    }


def _hide_small(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int | None]]:
    """Hide cells of 1-4; where a choice has exactly one hidden cell, hide its smallest
    other cell too, or the overall count minus the visible cells would give it away."""
    shown: dict[str, dict[str, int | None]] = {
        name: {choice: (None if 0 < n < SMALL_CELL else n) for choice, n in cells.items()}
        for name, cells in sorted(table.items())
    }
    choices = next(iter(table.values())).keys() if table else []
    for choice in choices:
        hidden = [name for name in shown if shown[name][choice] is None]
        visible = [name for name in shown if shown[name][choice] is not None]
        if len(hidden) == 1 and visible:
            smallest = min(visible, key=lambda name: (table[name][choice], name))
            shown[smallest][choice] = None
    return shown
