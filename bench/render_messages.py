"""How fast one worker renders members' messages, and how fast a hostile template is refused.

    python -m bench.render_messages [--members 20000]

Compiles a realistic bulletin once (Markdown, sanitising, layout, CSS inlining), then
renders email (subject, text, HTML) and SMS for each made-up member, as a batch does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

from commsvc.errors import TemplateError
from commsvc.services.bulletins import rendering, sms_segments

SUBJECT = "Pay offer: have your say, {{ member.first_name }}"
EMAIL = """Dear {{ member.first_name|title }},

The **{{ partnership.name }}** pay offer is out. {% if member.service_group == 'health' %}
Health staff: the offer covers Agenda for Change bands 2 to 7.{% else %}
Council staff: the offer follows the NJC pay spine.{% endif %}

- Read the offer
- Come to a meeting at {{ member.workplace|default('your workplace', true) }}
- Vote by Friday

[Choose what you receive]({{ preferences_url }})
"""
SMS = "Hi {{ member.first_name }}, the {{ partnership.name }} pay offer is out. Vote by Fri."
HOSTILE = [
    "{{ ''.__class__.__mro__ }}",
    "{{ 'x' * 10**9 }}",
    "{% for c in 'x' * 1000 %}{{ 'y' * 999 }}{% endfor %}",
    "{{ 9 ** 9 ** 9 }}",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20_000)
    members = parser.parse_args().members

    started = time.perf_counter()
    compiled = rendering.compile_bulletin(SUBJECT, EMAIL, SMS)
    compile_seconds = time.perf_counter() - started

    context = rendering.sample_context()
    started = time.perf_counter()
    for n in range(members):
        context["member"]["first_name"] = f"member{n}"
        context["member"]["service_group"] = ("health", "local_government")[n % 2]
        compiled.render_email(context)
        sms_segments.count(compiled.render_sms(context))
    render_seconds = time.perf_counter() - started

    refusals = {}
    for source in HOSTILE:
        started = time.perf_counter()
        with contextlib.suppress(TemplateError):
            rendering.compile_bulletin(source, "x", "x")
        refusals[source] = round((time.perf_counter() - started) * 1000, 2)

    print(
        json.dumps(
            {
                "members": members,
                "compile_ms": round(compile_seconds * 1000, 1),
                "members_per_second": round(members / render_seconds),
                "refusal_ms": refusals,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
