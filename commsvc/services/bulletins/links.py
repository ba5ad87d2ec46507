"""Signed, expiring member links: the preference centre, one-click unsubscribe and
the answer page of a bulletin's question.

A link carries the member's random public id (and for unsubscribe, the topic), signed
with the secret key; no member id or address appears in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from commsvc.errors import CommsvcError

LINK_MAX_AGE_SECONDS = 90 * 24 * 3600
TEST_COPY_PATH = "/test-copy"
PREFERENCES_SALT = "commsvc.preferences"
UNSUBSCRIBE_SALT = "commsvc.unsubscribe"
ANSWER_SALT = "commsvc.answer"
NO_CHOICE = -1  # an answer link that selects nothing (the SMS fallback)


class LinkError(CommsvcError):
    http_status = 400
    code = "bad_link"


class ExpiredLink(LinkError):
    http_status = 410
    code = "expired_link"


class LinkMaker(Protocol):
    def preferences_url(self, public_id: str) -> str: ...

    def unsubscribe_url(self, public_id: str, topic_id: int) -> str: ...


@dataclass(frozen=True)
class TestCopyLinks:
    """Links for previews and test sends: they lead to a page that says "this is a test
    copy" and change nobody's choices, whoever opens or posts to them. A real member's
    signed link there would let anyone who sees a preview (a viewer included) change
    that member's choices, recorded as the member's own consent."""

    __test__ = False  # not a pytest class, whatever its name says

    public_url: str

    def preferences_url(self, public_id: str = "") -> str:
        return f"{self.public_url}{TEST_COPY_PATH}"

    def unsubscribe_url(self, public_id: str = "", topic_id: int = 0) -> str:
        return f"{self.public_url}{TEST_COPY_PATH}?link=unsubscribe"


@dataclass(frozen=True)
class MemberLinks:
    """Makes links for many members with one serializer (built once per batch)."""

    secret_key: str
    public_url: str

    def preferences_url(self, public_id: str) -> str:
        token = _serializer(self.secret_key, PREFERENCES_SALT).dumps(public_id)
        return f"{self.public_url}/p/{token}"

    def unsubscribe_url(self, public_id: str, topic_id: int) -> str:
        token = _serializer(self.secret_key, UNSUBSCRIBE_SALT).dumps([public_id, topic_id])
        return f"{self.public_url}/u/{token}"

    def answer_url(self, public_id: str, question_id: int, choice: int = NO_CHOICE) -> str:
        """The answer page with `choice` (an index into the question's choices) selected."""
        token = _serializer(self.secret_key, ANSWER_SALT).dumps([public_id, question_id, choice])
        return f"{self.public_url}/a/{token}"


def read_preferences_token(secret_key: str, token: str) -> str:
    value = _load(secret_key, PREFERENCES_SALT, token)
    if not isinstance(value, str):
        raise LinkError("This link is not valid.")
    return value


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[str, int]:
    value = _load(secret_key, UNSUBSCRIBE_SALT, token)
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        raise LinkError("This link is not valid.")
    return value[0], value[1]


def read_answer_token(secret_key: str, token: str) -> tuple[str, int, int]:
    """(public id, question id, preselected choice or NO_CHOICE)."""
    value = _load(secret_key, ANSWER_SALT, token)
    if not (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    ):
        raise LinkError("This link is not valid.")
    return value[0], value[1], value[2]


def _load(secret_key: str, salt: str, token: str) -> object:
    try:
        return _serializer(secret_key, salt).loads(token, max_age=LINK_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise ExpiredLink("This link has expired.") from None
    except BadSignature:
        raise LinkError("This link is not valid.") from None


_serializers: dict[tuple[str, str], URLSafeTimedSerializer] = {}


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    key = (secret_key, salt)
    if key not in _serializers:
        _serializers[key] = URLSafeTimedSerializer(secret_key, salt=salt)
    return _serializers[key]
