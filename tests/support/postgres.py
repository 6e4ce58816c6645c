"""A real, throw-away PostgreSQL server for hub tests: initdb in a temp dir, a free loopback port,
run as an unprivileged user (PostgreSQL refuses root, and CI runs as root), stopped at the end.

Fixtures: `pg_server` (session; the running server), `pg_url` (session; a database on it, as
`postgresql://vankit@127.0.0.1:PORT/vankit`), `pg_fresh_url` (a new, empty database per test) and
`pg_migrated_url` (a new database per test with VanKit's migrations applied, copied from a template).
"""
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

PG_USER = "vankit-pg"      # the system account the server runs as when we are root
DB_USER = "vankit"         # the database role tests connect as (trust auth on loopback only)


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        initdb = shutil.which("initdb")
        if initdb:
            return os.path.dirname(initdb)
        pytest.fail("PostgreSQL is not installed: `make test` installs Debian's postgresql package "
                    "(apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _system_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run as, created once when we are root; None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", PG_USER], check=True, capture_output=True)
        return pwd.getpwnam(PG_USER)


def _die_with_parent():
    # Runs in the child after its uid changed (a uid change would clear it): if pytest is
    # killed, the server stops too instead of lingering on its port.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class PostgresServer:
    """initdb + postgres on 127.0.0.1:PORT in a private temp dir."""

    # A test server: fsync off (it only has to survive the processes under test being killed, not
    # the machine losing power), which makes a test database several times faster.
    SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "200", "shared_buffers": "32MB"}

    def __init__(self, settings: dict | None = None):
        """`settings`: server settings instead of the test ones (the benchmarks use PostgreSQL's
        own defaults: a commit is on disk before it returns)."""
        self.settings = dict(self.SETTINGS if settings is None else settings)
        self.bin = _bin_dir()
        self.account = _system_user()
        self.root = tempfile.mkdtemp(prefix="vankit-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.proc = None
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)

    def _run_kwargs(self):
        kwargs = {"cwd": self.root, "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}}
        if self.account is not None:
            kwargs.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        return kwargs

    def url(self, database: str = DB_USER) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0):
        done = subprocess.run(
            [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", DB_USER, "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, **self._run_kwargs())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        self.log_path = os.path.join(self.root, "postgres.log")
        log = open(self.log_path, "ab")
        options = [arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}")]
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "postgres"), "-D", self.data, "-p", str(self.port),
             "-h", "127.0.0.1", "-k", self.root, *options],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, **self._run_kwargs())
        log.close()
        deadline = time.monotonic() + timeout
        import psycopg
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                    conn.execute("select 1")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"postgres did not accept connections in {timeout}s:\n{self.log()}")
                time.sleep(0.1)
        self.create_database(DB_USER)
        return self

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return fh.read()[-4000:]
        except OSError:
            return ""

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new database (empty, or a copy of `template`); returns its URL."""
        import psycopg
        name = name or "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def migrated_template(self) -> str:
        """The name of a database with VanKit's migrations applied, made once per server:
        copying it is much faster than migrating every test's database."""
        if getattr(self, "_template", None) is None:
            from playhouse.migrations import Runner
            from vanapp.db import MIGRATIONS_DIR, open_database
            name = "vankit_migrated"
            database = open_database(self.create_database(name), self.root)
            with database.connection_context():
                Runner(database, directory=str(MIGRATIONS_DIR)).up()
            database.close()
            self._template = name
        return self._template

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)       # "fast" shutdown: disconnect clients, stop
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server):
    """URL of a database on the session's PostgreSQL server (shared by the session's tests)."""
    return pg_server.url()


@pytest.fixture
def pg_migrated_url(pg_server):
    """URL of a new database for this test with VanKit's migrations already applied; dropped
    afterwards."""
    url = pg_server.create_database(template=pg_server.migrated_template())
    yield url
    pg_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def pg_fresh_url(pg_server):
    """URL of a new, empty database for this test only; dropped afterwards."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url.rsplit("/", 1)[1])
