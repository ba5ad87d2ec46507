"""Fixtures for web tests: the real server (gunicorn) and `via`, which runs a test
through the test client and through gunicorn alike (see live_server.py)."""

from tests.web.live_server import live_server, via

__all__ = ["live_server", "via"]
