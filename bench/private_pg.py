"""A private PostgreSQL server for a drill that restarts it: the machine's server is shared.

`initdb` into a temporary folder as the `postgres` system user (PostgreSQL refuses to
run as root), listening on loopback only, on a free port. `restart` is a real fast
shutdown and start: every connection is cut and uncommitted work is lost, as when the
database host reboots. Everything is removed afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from commsvc.embedded_redis import free_port

START_TIMEOUT_SECONDS = 60


class PrivatePostgres:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200",
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *args],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS + 30,
        )


def available() -> str | None:
    """None when a private server can be made here; otherwise why not."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "PostgreSQL's server binaries are not installed"
    if shutil.which("runuser") is None:
        return "runuser is missing"
    return None


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="commsvc-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(folder, free_port())
    try:
        server._as_postgres(
            "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            server.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (folder / "data" / "postmaster.pid").exists():
            time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)
