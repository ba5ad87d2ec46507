"""Logging in through the real form, CSRF token and all (shared by the admin tests)."""

from __future__ import annotations

import re

PASSWORD = "a long enough password"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client, email: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"csrf_token": csrf(page), "email": email, "password": password}
    )


def token_from(client, path: str) -> str:
    return csrf(client.get(path).get_data(as_text=True))
