"""Fixtures shared by every test: the storage backends (SQLite and PostgreSQL), settings, clock,
and how a test's platform starts.

PostgreSQL tests each get an empty database of their own (see `Databases`); a test's platform
gets one in which the tables of every tenant already stand, empty (see `PlatformDatabases`). Where PostgreSQL
is not reachable they skip, unless QCFLOW_REQUIRE_POSTGRES is set (CI sets it), when they fail.
The PostgreSQL variants carry the `postgres` marker: `pytest -m "not postgres"` is the quick
loop.

A test's platform (the `platform` fixture, and the app of tests/api) starts every tenant and
hashes passwords with the cheapest argon2, unless the test (or its module's `pytestmark`) says:
- `@pytest.mark.tenants("sdaq", "caq")`: start only these tenants (the registry stays whole);
- `@pytest.mark.real_hasher`: hash with argon2's recommended cost, as in production.
"""

from __future__ import annotations

import json
import multiprocessing.forkserver
import os
import shutil
import tempfile
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import Startup
from tenants.runtime import Platform
from tenants.settings import Settings
from tests.scheduling import LongestFirst
from tests.support import (
    APPS,
    CHEAP_PASSWORDS,
    Clock,
    PlatformOptions,
    beijing,
    platform_options_of,
)

ADMIN_URL = os.environ.get(
    "QCFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


SECOND_ADMIN_URL = os.environ.get(
    "QCFLOW_TEST_SECOND_DATABASE_URL", "postgresql://postgres@127.0.0.1:5433/postgres"
)
"""A second PostgreSQL server (another cluster; `.ci/run` makes one on port 5433), for tenants
placed on several servers."""


def _postgres_reachable(url: str = ADMIN_URL) -> str | None:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e)


def _required(url: str) -> str:
    problem = _postgres_reachable(url)
    if problem is not None:
        if os.environ.get("QCFLOW_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return url


NO_COMMIT_WAIT = sql.SQL("ALTER DATABASE {} SET synchronous_commit = off")
"""A test database does not wait for each commit's WAL flush: what a test checks never depends on
surviving a crash of the server itself (a crash of the platform's processes, which the tests do
make, loses nothing either way), and the flushes were a large part of a write-heavy test's time."""


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    return _required(ADMIN_URL)


class Databases:
    """Empty databases for the tests, each used by one test (or module) at a time.

    Dropping a database makes the server checkpoint (most of a PostgreSQL test's setup and
    teardown on a busy server), so a database a test is done with is emptied instead (its
    sessions ended, every schema dropped, an empty `public` made) and handed to the next test;
    the session drops them at its end. One that cannot be emptied is dropped at once."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.free: list[str] = []
        self.made: list[str] = []

    def url(self, name: str) -> str:
        return make_conninfo(**{**conninfo_to_dict(self.admin), "dbname": name})

    @contextmanager
    def empty_one(self) -> Iterator[str]:
        name = self.free.pop() if self.free else self._create()
        try:
            yield self.url(name)
        finally:
            self._give_back(name)

    def _give_back(self, name: str) -> None:
        if self._emptied(name):
            self.free.append(name)
        else:
            self._drop(name)

    def _create(self, template: str | None = None) -> str:
        name = f"qcflow_test_{uuid.uuid4().hex[:12]}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:  # copied through the WAL: no checkpoint
            create += sql.SQL(" TEMPLATE {} STRATEGY WAL_LOG").format(sql.Identifier(template))
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(create)
            conn.execute(NO_COMMIT_WAIT.format(sql.Identifier(name)))
        self.made.append(name)
        return name

    def _end_sessions(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    def _emptied(self, name: str) -> bool:
        try:
            self._end_sessions(name)
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                schemas = conn.execute(
                    "SELECT nspname FROM pg_namespace"
                    " WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
                ).fetchall()
                for (schema,) in schemas:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
                conn.execute("CREATE SCHEMA public")
        except psycopg.Error:
            return False
        return True

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self._drop(name)


SHAPE = """
SELECT coalesce(string_agg(item, E'\\n' ORDER BY item), '') FROM (
  SELECT 'schema ' || n.nspname AS item FROM pg_namespace n WHERE {mine}
  UNION ALL
  SELECT format('%s.%s %s (%s)', n.nspname, c.relname, c.relkind, (
      SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                        ORDER BY a.attnum)
      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {mine}
  UNION ALL
  SELECT format('%s %s', con.conrelid::regclass, pg_get_constraintdef(con.oid))
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE {mine}
  UNION ALL
  SELECT format('%s.%s(%s) %s %s', n.nspname, p.proname,
                pg_get_function_identity_arguments(p.oid), p.prokind, md5(p.prosrc))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {mine}
  UNION ALL
  SELECT format('type %s.%s %s', n.nspname, t.typname, t.typtype)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {mine}
) AS catalogue
""".format(mine="n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'")
"""Everything the database holds besides rows, as one text: two databases of the same shape
differ only in their rows and their sequences' positions."""


@dataclass(frozen=True)
class Template:
    """A database on which a platform has started once: what a copy of it is brought back to."""

    name: str
    shape: str
    """Its `SHAPE`."""
    reset: sql.Composable
    """Deletes every row, restarts the sequences, and puts back the rows the start wrote."""


class PlatformDatabases:
    """Databases in which the schemas and tables of a test's platform (the ledgers', the chain's,
    the read models', the sign-ins') already stand, empty, for its tenants on PostgreSQL.

    Creating them at each start was most of a PostgreSQL test's setup, on both sides (a quarter
    of a second of the server's CPU, a tenth of the test's). So the session starts the app once
    on a template database for each set of tenants a test starts (its `tenants` marker), and
    each test gets a copy of it (`CREATE DATABASE … TEMPLATE`, copied through the WAL: no
    checkpoint) or one a test is done with, brought back to the template exactly: its rows
    deleted, its sequences restarted, the rows the start wrote put back, if it still has the
    template's shape. One whose shape a test changed (its own tables, a rebuild's swap, another
    set of tenants) is emptied and goes to the empty databases (`Databases`). The platform a
    test starts on it creates nothing and finds no row: it sees what it would see on an empty
    database after its start."""

    def __init__(self, databases: Databases) -> None:
        self.databases = databases
        self.templates: dict[frozenset[str] | None, Template] = {}
        self.free: dict[frozenset[str] | None, list[str]] = {}

    @contextmanager
    def ready_one(self, only: Collection[str] | None) -> Iterator[str]:
        tenants = frozenset(only) if only is not None else None
        free = self.free.setdefault(tenants, [])
        template = self.templates.get(tenants) or self._made_template(tenants)
        name = free.pop() if free else self.databases._create(template=template.name)
        try:
            yield self.databases.url(name)
        finally:
            if self._reset(name, template):
                free.append(name)
            else:
                self.databases._give_back(name)

    def _made_template(self, tenants: frozenset[str] | None) -> Template:
        name = self.databases._create()
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(
                database_url=self.databases.url(name), data_dir=Path(data_dir), pg_pool_size=1
            )
            startup = Startup(settings, only=tenants, passwords=CHEAP_PASSWORDS)
            with APPS.lent(startup) as app, TestClient(app):
                pass  # its start made everything
        self.databases._end_sessions(name)
        with psycopg.connect(self.databases.url(name), autocommit=True) as conn:
            tables = conn.execute(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
                " WHERE schemaname NOT LIKE 'pg\\_%' AND schemaname <> 'information_schema'"
                " ORDER BY 1"
            ).fetchall()
            sequences = conn.execute(
                "SELECT format('%I.%I', schemaname, sequencename), last_value IS NULL"
                " FROM pg_sequences ORDER BY 1"
            ).fetchall()
            # Restarted, a sequence is as the template's start left it only if it never moved.
            assert all(fresh for _, fresh in sequences), sequences
            statements = [sql.SQL("DELETE FROM {}").format(sql.SQL(t)) for (t,) in tables]
            statements += [
                sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.SQL(s)) for s, _ in sequences
            ]
            for (table,) in tables:
                rows = conn.execute(
                    sql.SQL("SELECT json_agg(t) FROM {} AS t").format(sql.SQL(table))
                ).fetchone()
                if rows is not None and rows[0] is not None:
                    statements.append(
                        sql.SQL(
                            "INSERT INTO {0} SELECT * FROM json_populate_recordset(NULL::{0}, {1})"
                        ).format(sql.SQL(table), sql.Literal(json.dumps(rows[0])))
                    )
            template = Template(name, self._shape_of(conn), sql.SQL("; ").join(statements))
        self.templates[tenants] = template
        return template

    @staticmethod
    def _shape_of(conn: psycopg.Connection[tuple[object, ...]]) -> str:
        row = conn.execute(SHAPE).fetchone()
        return str(row[0]) if row else ""

    def _reset(self, name: str, template: Template) -> bool:
        try:
            self.databases._end_sessions(name)
            with psycopg.connect(self.databases.url(name), autocommit=True) as conn:
                if self._shape_of(conn) != template.shape:
                    return False
                with conn.transaction():
                    conn.execute(template.reset)
        except psycopg.Error:
            return False
        return True


@pytest.fixture(scope="session")
def databases(postgres_admin: str) -> Iterator[Databases]:
    databases = Databases(postgres_admin)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def platform_databases(databases: Databases) -> PlatformDatabases:
    return PlatformDatabases(databases)


@pytest.fixture(scope="session")
def second_databases() -> Iterator[Databases]:
    databases = Databases(_required(SECOND_ADMIN_URL))
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def second_postgres_url(second_databases: Databases) -> Iterator[str]:
    """An empty database on the second server, for one test."""
    with second_databases.empty_one() as url:
        yield url


@pytest.fixture
def postgres_url(databases: Databases) -> Iterator[str]:
    """An empty database for one test (see `Databases`)."""
    with databases.empty_one() as url:
        yield url


@pytest.fixture
def platform_postgres_url(
    platform_databases: PlatformDatabases, platform_options: PlatformOptions
) -> Iterator[str]:
    """A database for one test's platform: the tables of its tenants made, every one empty (see
    `PlatformDatabases`)."""
    with platform_databases.ready_one(platform_options.only) as url:
        yield url


@pytest.fixture(scope="module")
def module_platform_postgres_url(
    platform_databases: PlatformDatabases, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database for the platform of one module's tests, as `platform_postgres_url`, for the
    tenants of the module's marker."""
    with platform_databases.ready_one(platform_options_of(request.node).only) as url:
        yield url


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DATABASE_FIXTURES = {
    "postgres_url",
    "platform_postgres_url",
    "module_platform_postgres_url",
    "postgres_admin",
    "databases",
    "second_postgres_url",
}
TWO_SERVERS = pytest.param("two_servers", marks=pytest.mark.postgres)
"""A backend a module may add to its own `backend` parameters: the platform on PostgreSQL, with
the national tenant (caq) on a second server."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `postgres` marker on every test that needs the server: the backend parameters'
    PostgreSQL variants carry it, and so does a test that asks for a database itself."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        backends = (params.get("backend"), params.get("module_backend"))
        on_postgres = "postgres" in backends or "two_servers" in backends
        if on_postgres or DATABASE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    """The backend of a situation built once per module (see `module_settings`)."""
    return str(request.param)


@pytest.fixture
def platform_options(request: pytest.FixtureRequest) -> PlatformOptions:
    return platform_options_of(request.node)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "two_servers":
        return Settings(
            database_url=request.getfixturevalue("postgres_url"),
            tenant_database_urls={"caq": request.getfixturevalue("second_postgres_url")},
            data_dir=tmp_path / "var",
            pg_pool_size=2,
        )
    url = request.getfixturevalue("platform_postgres_url") if backend == "postgres" else None
    return Settings(database_url=url, data_dir=tmp_path / "var", pg_pool_size=2)


@pytest.fixture(scope="module")
def module_settings(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Settings:
    """Settings shared by the tests of one module, on each backend (one PostgreSQL database
    per module): for situations built once and then only read."""
    postgres = module_backend == "postgres"
    url = request.getfixturevalue("module_platform_postgres_url") if postgres else None
    data_dir = tmp_path_factory.mktemp("module") / "var"
    return Settings(database_url=url, data_dir=data_dir, pg_pool_size=2)


@pytest.fixture
def platform(settings: Settings, platform_options: PlatformOptions) -> Iterator[Platform]:
    platform = Platform.from_settings(
        settings, only=platform_options.only, passwords=platform_options.passwords
    )
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(beijing(2024, 1, 15, 9, 30))


MEMORY = Path("/dev/shm")  # noqa: S108 (a directory of its own is made in it: mkdtemp)
"""Where a run keeps its files (`tmp_path`: the SQLite ledgers and read models, the tenants'
stores) when it names no `--basetemp`: a memory file system, where SQLite's flush of each commit
costs nothing. On disk the API tests on SQLite took a fifth longer and the run wrote about a
gigabyte; what the tests show does not depend on the disk (a flush cannot be observed short of a
power cut)."""
KEPT = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before pytest sets up its temporary directories: the run's base in memory, if there is
    room (an xdist worker's base is given by its controller, under the controller's)."""
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    roomy = MEMORY.is_dir() and os.access(MEMORY, os.W_OK)
    if roomy and shutil.disk_usage(MEMORY).free > 4 * 2**30:
        base = Path(tempfile.mkdtemp(prefix="qcflow-tests-", dir=MEMORY))
        config.option.basetemp = str(base)
        config.stash[KEPT] = base


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The fork server of the tests' commands (tests/support.py) ends with the session, waited
    for: no process left behind, and its CPU and its children's counted as this process's. The
    run's files in memory are removed when every test passed, else kept to look at (named at the
    end of the report)."""
    multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]  # its own stop
    base = session.config.stash.get(KEPT, None)
    if base is not None and exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(base, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    base = terminalreporter.config.stash.get(KEPT, None)
    if base is not None and base.exists():
        terminalreporter.write_line(f"the run's files are kept in {base} (memory: remove them)")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LongestFirst:
    """`make test`'s processes take the longest work first (tests/scheduling.py)."""
    return LongestFirst(config, log)
