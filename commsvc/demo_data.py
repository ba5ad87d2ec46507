"""Demo data in the vocabulary of the union's integrated care partnerships.

Made as a member CSV and loaded through the real importer, so the demo exercises
the same path an organiser's file does.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata

from commsvc.services.members.records import FIELDS

REGION = "North West"
PARTNERSHIPS = [
    # name, kind, employers
    (
        "Salford Integrated Care Section 31 Partnership",
        "section_31_partnership",
        ["Salford Royal NHS Foundation Trust", "Salford City Council"],
    ),
    ("Trafford Care Trust", "care_trust", ["Trafford Healthcare NHS Trust", "Trafford Council"]),
]
BRANCHES = {
    "health": ["Salford Health Branch", "Trafford Health Branch"],
    "local_government": ["Salford City Branch", "Trafford Local Government Branch"],
}
EMPLOYERS = {
    "health": ["Salford Royal NHS Foundation Trust", "Trafford Healthcare NHS Trust"],
    "local_government": ["Salford City Council", "Trafford Council"],
}
JOBS = {
    "health": [
        "Healthcare Assistant",
        "Staff Nurse",
        "Occupational Therapist",
        "Porter",
        "Community Nurse",
        "Medical Secretary",
    ],
    "local_government": [
        "Social Worker",
        "Home Care Worker",
        "Care Manager",
        "Occupational Therapist",
        "Day Centre Officer",
        "Admin Officer",
    ],
}
WORKPLACES = [
    "Intermediate Care Unit",
    "Community Mental Health Team",
    "Hospital Discharge Team",
    "Learning Disability Service",
    "Reablement Team",
    "Joint Equipment Store",
]
TOPICS = ["bargaining", "campaigns", "partnership news", "events", "health and safety"]
SERVICE_TOPICS = ["ballots"]
FIRST = [
    "Alex",
    "Sam",
    "Priya",
    "Mohammed",
    "Siân",
    "Gareth",
    "Aisha",
    "Tom",
    "Bethan",
    "Chloe",
    "Daniel",
    "Fatima",
    "Grace",
    "Harry",
    "Imran",
    "Jade",
    "Kofi",
    "Leah",
    "Megan",
    "Niamh",
]
LAST = [
    "Evans",
    "Jones",
    "Khan",
    "Williams",
    "Patel",
    "Roberts",
    "Hughes",
    "O'Brien",
    "Smith",
    "Davies",
    "Ahmed",
    "Taylor",
    "Walsh",
    "Lewis",
    "Morgan",
    "Clarke",
]


def members_csv(count: int, seed: int = 31) -> bytes:
    """A member CSV: both service groups, both partnerships, a mix of channels and topics."""
    chooser = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for n in range(1, count + 1):
        group = "health" if n % 2 else "local_government"
        pick = n % 4 // 2  # alternate between the two partnerships' employers
        first, last = chooser.choice(FIRST), chooser.choice(LAST)
        channel_mix = n % 5
        local = _ascii(f"{first.lower()}.{last.lower().replace(chr(39), '')}{n}")
        email = f"{local}@example.org"
        mobile = f"07911 {100000 + n:06d}"
        channels = {0: "email;sms", 1: "email", 2: "sms", 3: "", 4: "email"}[channel_mix]
        topics = "" if n % 3 else ";".join(chooser.sample(TOPICS, 2))
        writer.writerow(
            [
                f"NW{n:06d}",
                first,
                last,
                email if channels != "sms" else "",
                mobile if channels in ("email;sms", "sms", "") else "",
                REGION,
                BRANCHES[group][pick],
                EMPLOYERS[group][pick],
                group,
                chooser.choice(WORKPLACES),
                chooser.choice(JOBS[group]),
                "",
                topics,
                channels,
            ]
        )
    return out.getvalue().encode()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
