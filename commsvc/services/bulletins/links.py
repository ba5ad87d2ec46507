"""Signed, expiring member links: the preference centre, one-click unsubscribe, the
answer page of a bulletin's question, the web copy of a bulletin, and the confirmation
of a corrected address, and the short "stop texts" link a text carries.

A link carries the member's random public id (and for unsubscribe, the topic), signed
with the secret key; no member id or address appears in a URL (an address correction
carries the new address, sent only to that address). An unsubscribe link must work for
as long as an old email may be opened, so it lives for years; a preference link is a
key to a member's choices, so it lives for 90 days, and when it has expired the member
can have a fresh one sent to their own address.

A text pays for every character, so its opt-out link is short: the member's public id
and a truncated HMAC, with no expiry (a text's opt-out must keep working for as long
as the text is kept). It can only stop texts, never read or change anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from commsvc.errors import CommsvcError
from commsvc.services.bulletins.link_tokens import TokenSigner

DAY = 24 * 3600
LINK_MAX_AGE_SECONDS = 90 * DAY
UNSUBSCRIBE_MAX_AGE_SECONDS = 10 * 365 * DAY
WEB_COPY_MAX_AGE_SECONDS = 365 * DAY
CONFIRM_MAX_AGE_SECONDS = 2 * DAY
TEST_COPY_PATH = "/test-copy"
PREFERENCES_SALT = "commsvc.preferences"
UNSUBSCRIBE_SALT = "commsvc.unsubscribe"
WEB_COPY_SALT = "commsvc.web_copy"
CONFIRM_SALT = "commsvc.confirm_address"
ANSWER_SALT = "commsvc.answer"
TEXT_OPT_OUT_SALT = b"commsvc.text_opt_out"
TEXT_OPT_OUT_PATH = "/t/"
_TEXT_MAC_CHARS = 12  # 72 bits: no one guesses a member's link by trying
# Leads to the test-copy page; as long as a member's token. Not a secret.
TEST_COPY_TEXT_TOKEN = "test-copy-of-this-text.000000000000"  # noqa: S105
NO_CHOICE = -1  # an answer link that selects nothing (the SMS fallback)


class LinkError(CommsvcError):
    http_status = 400
    code = "bad_link"


class ExpiredLink(LinkError):
    http_status = 410
    code = "expired_link"
    # What the link carried, so the page can offer a fresh link to the member's own address.
    value: object = None


class LinkMaker(Protocol):
    def preferences_url(self, public_id: str) -> str: ...

    def unsubscribe_url(self, public_id: str, topic_id: int) -> str: ...

    def web_copy_url(self, public_id: str, bulletin_id: int) -> str: ...

    def text_opt_out_url(self, public_id: str) -> str: ...


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

    def web_copy_url(self, public_id: str = "", bulletin_id: int = 0) -> str:
        return f"{self.public_url}{TEST_COPY_PATH}?link=web_copy"

    def text_opt_out_url(self, public_id: str = "") -> str:
        # As long as a member's own, so a preview counts the text's segments truly.
        return f"{self.public_url}{TEXT_OPT_OUT_PATH}{TEST_COPY_TEXT_TOKEN}"


@dataclass(frozen=True)
class MemberLinks:
    """Makes links for many members; the signers are made once per process."""

    secret_key: str
    public_url: str

    def preferences_url(self, public_id: str) -> str:
        return f"{self.public_url}/p/{self._token(PREFERENCES_SALT, public_id)}"

    def unsubscribe_url(self, public_id: str, topic_id: int) -> str:
        return f"{self.public_url}/u/{self._token(UNSUBSCRIBE_SALT, [public_id, topic_id])}"

    def web_copy_url(self, public_id: str, bulletin_id: int) -> str:
        return f"{self.public_url}/w/{self._token(WEB_COPY_SALT, [public_id, bulletin_id])}"

    def text_opt_out_url(self, public_id: str) -> str:
        """The short link a text ends with when members cannot reply STOP to it."""
        token = text_opt_out_token(self.secret_key, public_id)
        return f"{self.public_url}{TEXT_OPT_OUT_PATH}{token}"

    def confirm_address_url(self, public_id: str, channel: str, address: str) -> str:
        token = self._token(CONFIRM_SALT, [public_id, channel, address])
        return f"{self.public_url}/c/{token}"

    def answer_url(self, public_id: str, question_id: int, choice: int = NO_CHOICE) -> str:
        """The answer page with `choice` (an index into the question's choices) selected."""
        token = self._token(ANSWER_SALT, [public_id, question_id, choice])
        return f"{self.public_url}/a/{token}"

    def _token(self, salt: str, value: object) -> str:
        return _signer(self.secret_key, salt).dumps(value)


def text_opt_out_token(secret_key: str, public_id: str) -> str:
    return f"{public_id}.{_text_mac(secret_key, public_id)}"


def read_text_opt_out_token(secret_key: str, token: str) -> str:
    """The member's public id of a short text opt-out link."""
    public_id, _dot, mac = token.rpartition(".")
    if not public_id or not hmac.compare_digest(mac, _text_mac(secret_key, public_id)):
        raise LinkError("This link is not valid.")
    return public_id


def _text_mac(secret_key: str, public_id: str) -> str:
    digest = hmac.new(
        secret_key.encode(), TEXT_OPT_OUT_SALT + b"\0" + public_id.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_TEXT_MAC_CHARS]


def read_preferences_token(secret_key: str, token: str) -> str:
    value = _load(secret_key, PREFERENCES_SALT, token)
    if not isinstance(value, str):
        raise LinkError("This link is not valid.")
    return value


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[str, int]:
    value = _load(secret_key, UNSUBSCRIBE_SALT, token, UNSUBSCRIBE_MAX_AGE_SECONDS)
    return _pair(value)


def read_web_copy_token(secret_key: str, token: str) -> tuple[str, int]:
    """The member's public id and the bulletin id of a web copy link."""
    return _pair(_load(secret_key, WEB_COPY_SALT, token, WEB_COPY_MAX_AGE_SECONDS))


def read_confirm_token(secret_key: str, token: str) -> tuple[str, str, str]:
    """(public id, channel, new address) of an address-confirmation link."""
    value = _load(secret_key, CONFIRM_SALT, token, CONFIRM_MAX_AGE_SECONDS)
    if not (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, str) for v in value)
        and value[1] in ("email", "sms")
    ):
        raise LinkError("This link is not valid.")
    return value[0], value[1], value[2]


def _pair(value: object) -> tuple[str, int]:
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


def _load(secret_key: str, salt: str, token: str, max_age: int = LINK_MAX_AGE_SECONDS) -> object:
    serializer = _serializer(secret_key, salt)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:
        problem = ExpiredLink("This link has expired.")
        # The signature was good, only old: what it carried can be trusted to say whose.
        problem.value = serializer.load_payload(expired.payload) if expired.payload else None
        raise problem from None
    except BadSignature:
        raise LinkError("This link is not valid.") from None


_serializers: dict[tuple[str, str], URLSafeTimedSerializer] = {}
_signers: dict[tuple[str, str], TokenSigner] = {}


def _signer(secret_key: str, salt: str) -> TokenSigner:
    key = (secret_key, salt)
    if key not in _signers:
        _signers[key] = TokenSigner(secret_key, salt)
    return _signers[key]


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    key = (secret_key, salt)
    if key not in _serializers:
        _serializers[key] = URLSafeTimedSerializer(secret_key, salt=salt)
    return _serializers[key]
