"""Each email, parsed back with the email package, carries what the contract promises."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage

from commsvc.envelopes import EmailEnvelope
from commsvc.services.bulletins.email_message import build_email
from commsvc.services.bulletins.rendering import RenderedEmail

UNSUBSCRIBE_URL = "https://union.example/u/token-abc?topic=3"


def build(
    *,
    subject: str = "Pay offer: have your say, Alex",
    text: str = "Dear Alex,\n\nThe pay offer is out.\n",
    html: str = "<p>Dear Alex,</p><p>The pay offer is out.</p>",
    delivery_id: int = 42,
    sender: str = "bulletins@union.example",
    recipient: str = "alex@example.org",
    unsubscribe_url: str = UNSUBSCRIBE_URL,
) -> EmailEnvelope:
    return build_email(
        RenderedEmail(subject=subject, text=text, html=html),
        delivery_id=delivery_id,
        sender=sender,
        recipient=recipient,
        unsubscribe_url=unsubscribe_url,
        message_id_domain="union.example",
    )


def parse(envelope: EmailEnvelope) -> EmailMessage:
    message = email.message_from_bytes(envelope.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_email_is_multipart_alternative_with_text_then_html():
    message = parse(build())
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert body(message, "plain") == "Dear Alex,\n\nThe pay offer is out.\n"
    assert body(message, "html") == "<p>Dear Alex,</p><p>The pay offer is out.</p>"


def test_email_carries_addresses_subject_and_delivery_id():
    message = parse(build(delivery_id=913))
    assert message["From"] == "bulletins@union.example"
    assert message["To"] == "alex@example.org"
    assert message["Subject"] == "Pay offer: have your say, Alex"
    assert message["X-Commsvc-Delivery"] == "913"
    assert message["Date"].datetime is not None
    assert message["MIME-Version"] == "1.0"


def test_unsubscribe_headers_offer_one_click_url_and_mailto():
    message = parse(build(delivery_id=7))
    links = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert links == [UNSUBSCRIBE_URL, "mailto:bulletins@union.example?subject=unsubscribe-7"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mailto_uses_the_bare_address_of_a_named_sender():
    message = parse(build(sender="Union Bulletins <bulletins@union.example>", delivery_id=5))
    assert "<mailto:bulletins@union.example?subject=unsubscribe-5>" in str(
        message["List-Unsubscribe"]
    )
    assert message["From"].addresses[0].display_name == "Union Bulletins"


def test_every_email_has_its_own_message_id_even_for_the_same_delivery():
    ids = [str(parse(build(delivery_id=n % 50))["Message-ID"]) for n in range(200)]
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"<[^<>@\s]+@union\.example>", i) for i in ids)


def test_lines_end_in_crlf_and_stay_short():
    long_line = "word " * 600  # one 3,000-character paragraph
    envelope = build(text=long_line + "\n", html=f"<p>{long_line}</p>")
    assert b"\n" not in envelope.data.replace(b"\r\n", b"")
    assert b"\r" not in envelope.data.replace(b"\r\n", b"")
    assert max(len(line) for line in envelope.data.split(b"\r\n")) < 998
    message = parse(envelope)
    assert body(message, "plain") == long_line + "\n"
    assert body(message, "html") == f"<p>{long_line}</p>"


def test_bodies_are_quoted_printable_and_round_trip_non_ascii():
    text = "Dear Zoë,\n\nThe offer is £1,500 — vote by Friday.\n= not an encoding\n"
    html = "<p>Dear Zoë, £1,500 = “yes”</p>"
    message = parse(build(text=text, html=html))
    for part in message.iter_parts():
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content_charset() == "utf-8"
    assert body(message, "plain") == text
    assert body(message, "html") == html
    assert build(text=text).data.isascii()


def test_non_ascii_subject_and_sender_name_are_encoded_words():
    envelope = build(subject="Cytundeb cyflog: dweud eich dweud, Siân " * 8)
    head = envelope.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    message = parse(envelope)
    assert message["Subject"] == ("Cytundeb cyflog: dweud eich dweud, Siân " * 8).strip()
    named = parse(build(sender="Undeb Bwletinau Ŵ <bulletins@union.example>"))
    assert named["From"].addresses[0].display_name == "Undeb Bwletinau Ŵ"


def test_header_values_cannot_inject_headers():
    envelope = build(
        subject="Hello\r\nBcc: victim@example.org",
        recipient="alex@example.org\r\nX-Injected: yes",
        unsubscribe_url="https://union.example/u/x\nX-Other: 1",
    )
    message = parse(envelope)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["X-Other"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.org"
    assert envelope.recipient == "alex@example.org X-Injected: yes"


def test_body_text_looking_like_a_boundary_does_not_split_the_email():
    first = build()
    boundary = first.data.split(b'boundary="', 1)[1].split(b'"', 1)[0].decode()
    text = f"--{boundary}\nContent-Type: text/html\n\n<p>forged</p>\n--{boundary}--\n"
    message = parse(build(text=text))
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert body(message, "plain") == text


def test_envelope_names_sender_recipient_and_delivery():
    envelope = build(delivery_id=99, recipient="  sam@example.org ")
    assert (envelope.delivery_id, envelope.sender, envelope.recipient) == (
        99,
        "bulletins@union.example",
        "sam@example.org",
    )
