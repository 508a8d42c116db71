"""A throwaway PostgreSQL server for the store tests: ``initdb`` + ``pg_ctl start`` on a free loopback
port in a temporary directory, one per test session, stopped (and deleted) at the end.

As root the server runs as the ``postgres`` system user (or a ``byway-pg`` user made for it), since
PostgreSQL refuses to run as root. ``find_bin()`` looks on PATH, then under /usr/lib/postgresql/*/bin.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from functools import cache
from pathlib import Path

from tests.serving import free_port

_USERS = ("postgres", "byway-pg")
DATABASE = "byway_tests"


def find_bin() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path and (Path(on_path).resolve().parent / "initdb").exists():
        return Path(on_path).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


def _run_as() -> str | None:
    """The user to run the server as (None: the current one)."""
    if os.geteuid() != 0:
        return None
    for name in _USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _USERS[1]],
                   check=True, capture_output=True)
    return _USERS[1]


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="byway-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.running = False
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "byway", "-A", "trust", "-E", "UTF8", "--no-locale",
                  "--no-sync")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                  "-o", options, "start")
        self.running = True
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "byway", DATABASE)

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")
        return done

    def url(self, user: str = "byway") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{DATABASE}"

    async def fresh(self) -> str:
        """The URL of a fresh, empty place to put a schema: a new role that owns a schema of its own name.
        PostgreSQL's default search_path starts with the user's own schema, so everything the tests
        create lands there (CREATE DATABASE would cost half a second per test)."""
        import asyncpg

        name = "t_" + uuid.uuid4().hex[:16]
        connection = await asyncpg.connect(host="127.0.0.1", port=self.port, user="byway", database=DATABASE)
        try:
            await connection.execute(f'CREATE ROLE "{name}" LOGIN; CREATE SCHEMA "{name}" AUTHORIZATION "{name}"')
        finally:
            await connection.close()
        return self.url(name)

    def pg_dump(self, schema: str) -> bytes:
        """One test's schema as pg_dump writes it, data included."""
        done = subprocess.run([str(self.bindir / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "byway",
                               "-n", schema, "--no-owner", DATABASE], capture_output=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def stop(self) -> None:
        if self.running:
            self.running = False
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@cache
def shared() -> PostgresServer | str:
    """The session's server, or why there is none."""
    bindir = find_bin()
    if bindir is None:
        return "PostgreSQL is not installed (no pg_ctl on PATH or under /usr/lib/postgresql/*/bin)"
    server = PostgresServer(bindir)
    atexit.register(server.stop)
    return server
