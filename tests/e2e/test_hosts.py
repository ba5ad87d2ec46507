"""Two worker hosts in network namespaces; one is cut off mid-send, then comes back.

The small form of `python -m bench.drill --hosts 2` (bench/hosts.py). It needs root and
`ip netns`; where namespaces cannot be made it skips with the reason, and `.ci/run`
sets COMMSVC_REQUIRE_NETNS=1 so that such a skip fails there instead.
"""

from __future__ import annotations

import os

import pytest

from bench import hosts, netns, private_pg

pytestmark = pytest.mark.e2e


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    return netns.can_make_namespaces()


@pytest.fixture
def database_server() -> str | None:
    """The PostgreSQL server the suite was given, else a private one made by the drill."""
    given = os.environ.get("COMMSVC_TEST_DATABASE_URL") or os.environ.get("COMMSVC_DATABASE_URL")
    if given and given.startswith("postgres"):
        return given
    reason = private_pg.available()
    if reason:
        _skip_or_fail(f"no PostgreSQL for the worker hosts: {reason}")
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("COMMSVC_REQUIRE_NETNS") == "1":
        pytest.fail(f"COMMSVC_REQUIRE_NETNS=1 but {reason}")
    pytest.skip(reason)


def test_a_host_cut_off_mid_send_loses_nothing_and_sends_nothing_taken_from_it(
    database_server: str | None,
) -> None:
    reason = _why_not()
    if reason:
        _skip_or_fail(reason)
    result = hosts.run("partition", host_count=2, members=150, database_server=database_server)
    assert result["finished"], "the other host did not finish the bulletin"
    assert result["lost"] == 0
    assert result["gave_up"] == 0
    # Only the message in flight when the link went down may arrive twice.
    assert result["duplicated"] <= result["allowed_duplicates"]
