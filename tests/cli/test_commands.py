"""The command line: import exit codes, API keys printed once, help everywhere."""

from __future__ import annotations

import hashlib

from commsvc.cli import main
from commsvc.extensions import db
from commsvc.models import ApiKey, Member
from tests import factories
from tests.services.members.test_importer import NOT_A_NUMBER_WARNING


def test_import_members_lists_bad_rows_and_exits_1_while_good_rows_land(app, runner, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(
        factories.csv_bytes([factories.member_row(), factories.member_row(email="nope", mobile="")])
    )
    result = runner.invoke(main, ["import-members", str(path)])
    assert result.exit_code == 1
    assert "line 3: email 'nope' is not valid" in result.output
    assert "2 rows read: 1 created" in result.output
    assert db.session.query(Member).count() == 1


def test_import_members_lists_warnings_and_exits_0_when_only_warnings(app, runner, tmp_path):
    path = tmp_path / "members.csv"
    row = factories.member_row(mobile="0123")
    path.write_bytes(factories.csv_bytes([factories.member_row(), row]))
    result = runner.invoke(main, ["import-members", str(path)])
    assert result.exit_code == 0, result.output
    assert "line 3: warning: " + NOT_A_NUMBER_WARNING in result.output
    assert "0 invalid, 1 warnings." in result.output
    assert db.session.query(Member).count() == 2


def test_import_members_exits_0_when_every_row_is_good(app, runner, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(factories.csv_bytes([factories.member_row()]))
    result = runner.invoke(main, ["import-members", str(path)])
    assert result.exit_code == 0, result.output


def test_create_api_key_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(app, runner):
    result = runner.invoke(main, ["create-api-key", "branch system"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert " " not in key and len(key) > 30
    stored = db.session.query(ApiKey).one()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (stored.prefix, stored.key_hash)


def test_create_user_takes_the_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("COMMSVC_PASSWORD", "a long enough password")
    result = runner.invoke(main, ["create-user", "org@union.example", "--role", "organiser"])
    assert result.exit_code == 0, result.output
    assert "Created organiser org@union.example" in result.output


def test_create_user_with_unknown_region_says_so(app, runner, monkeypatch):
    monkeypatch.setenv("COMMSVC_PASSWORD", "a long enough password")
    result = runner.invoke(main, ["create-user", "x@union.example", "--region", "Atlantis"])
    assert result.exit_code == 1
    assert "There is no region called 'Atlantis'" in result.output


def test_every_command_has_help(runner):
    for command in (
        "init-db",
        "create-user",
        "create-api-key",
        "import-members",
        "web",
        "worker",
        "beat",
        "demo",
    ):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output
