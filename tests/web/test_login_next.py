"""After logging in, `next` may only lead to a page of this site: anything that a
browser would read as another site, or that cannot go in a header, leads to the
dashboard (issue 12, item 7). Checked through the test client and gunicorn."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from commsvc.services.accounts import auth
from tests.web.admin_session import PASSWORD, csrf

EMAIL = "organiser@union.example"


def log_in_with_next(via, raw_next: str):
    query = f"?next={raw_next}"
    token = csrf(via.get("/login" + query).body.decode())
    return via.post(
        "/login" + query, form={"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    )


def landing(answer, via) -> str:
    """Where the browser goes: the Location's path, after checking it stays on this site."""
    assert answer.status == 302
    location = answer.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", urlsplit(via.base_url).netloc or "localhost")
    return parts.path


@pytest.mark.parametrize(
    "raw_next",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D%0ALocation:%20https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/%20/evil.example",
        "/%7F/evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_next_that_leaves_the_site_leads_to_the_dashboard(app, via, raw_next):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    answer = log_in_with_next(via, raw_next)
    path = landing(answer, via)
    assert "evil" not in answer.headers["Location"]
    assert not path.startswith("//")
    assert via.get(path).status == 200  # the dashboard, logged in


def test_a_next_on_this_site_is_kept(app, via):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    answer = log_in_with_next(via, "/admin/audit%3Fpage%3D2")
    assert landing(answer, via) == "/admin/audit"
    assert urlsplit(answer.headers["Location"]).query == "page=2"
