"""How the union presents itself to organisers and members: its name, the sender's
display name, the footer address and its colour. Set by an admin, nationally and,
where a region wants its own, per region (a region's blank answers fall back to the
national ones, and those to neutral defaults: never the software's name).

Emails carry the brand of the bulletin's partnership's region: the sender display name
in From (`from_header`, built once per batch), and the name, footer and colour in the
layout (`email_values`, a template variable, escaped like any other). Member pages
carry the brand of the member's region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from sqlalchemy import select

from commsvc.errors import Forbidden, ValidationError
from commsvc.extensions import db
from commsvc.models import Branding, Region
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor
from commsvc.services.bulletins import email_words

FIELDS = {"union_name": 120, "sender_name": 120, "footer_address": 300, "colour": 7}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Brand:
    union_name: str = "Your union"
    sender_name: str = ""
    footer_address: str = ""
    colour: str = "#4b2682"
    chosen: bool = False  # False: nothing saved, every field is a neutral default

    @property
    def sender(self) -> str:
        return self.sender_name or self.union_name


def brand_for(region_id: int | None = None) -> Brand:
    """The brand a region shows: its own answers, then the national ones, then defaults."""
    values: dict[str, str] = {}
    for row in (_row(region_id) if region_id else None, _row(None)):
        for name in FIELDS:
            if row is not None and getattr(row, name) and name not in values:
                values[name] = getattr(row, name)
    return Brand(**values, chosen=bool(values))


def from_header(configured: str, brand: Brand) -> str:
    """The From header's value: the brand's sender name on the configured address,
    quoted as RFC 5322 needs (`"North West UNISON, Health" <bulletins@…>`) and
    encoded when not ASCII. With no brand saved, the configured value as it is."""
    name, address = parseaddr(configured)
    if not address:
        return configured
    display = " ".join(brand.sender.split()) if brand.chosen else name
    return formataddr((display, address), charset="utf-8") if display else address


def email_values(brand: Brand, language: str) -> dict[str, str]:
    """What the email layout shows of the brand (`{{ brand.* }}`), with the layout's own
    words where an admin saved nothing."""
    words = email_words.layout_words(language)
    return {
        "masthead": brand.union_name if brand.chosen else words["MASTHEAD"],
        "footer": brand.footer_address or words["POSTAL_ADDRESS"],
        "colour": brand.colour,
    }


DEFAULT_EMAIL_VALUES = {
    "masthead": "Union bulletin",
    "footer": "The Union, 130 Euston Road, London NW1 2AY",
    "colour": Brand.colour,
}


def stored(region_id: int | None) -> dict[str, str]:
    """What is saved for the nation (None) or a region, blanks included, for the form."""
    row = _row(region_id)
    return {name: getattr(row, name) for name in FIELDS} if row is not None else {}


def save_brand(actor: Actor, data: dict[str, Any], region_id: int | None = None) -> Brand:
    """Check and save the national brand (or a region's); an empty answer falls back."""
    if actor.role != "admin":
        raise Forbidden("Only an admin can change the union's name, colour and footer.")
    if region_id is not None and db.session.get(Region, region_id) is None:
        raise ValidationError("There is no such region.", field="region")
    cleaned: dict[str, str] = {}
    for name, limit in FIELDS.items():
        value = data.get(name, "")
        value = " ".join(value.split()) if isinstance(value, str) else ""
        if len(value) > limit:
            raise ValidationError(f"Use at most {limit} characters.", field=name)
        cleaned[name] = value
    if cleaned["colour"] and not _COLOUR.match(cleaned["colour"]):
        raise ValidationError(
            "Enter the colour as # and six hexadecimal digits, for example #4b2682.",
            field="colour",
        )
    if region_id is None and not cleaned["union_name"]:
        raise ValidationError("Enter the union's name.", field="union_name")
    row = _row(region_id) or Branding(region_id=region_id)
    for name, value in cleaned.items():
        setattr(row, name, value)
    db.session.add(row)
    audit.record(actor.label, "branding.save", f"region {region_id or 'all'}", **cleaned)
    db.session.commit()
    return brand_for(region_id)


def _row(region_id: int | None) -> Branding | None:
    condition = (
        Branding.region_id.is_(None) if region_id is None else Branding.region_id == region_id
    )
    return db.session.scalar(select(Branding).where(condition))
