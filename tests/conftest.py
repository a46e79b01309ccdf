"""Fixtures shared by every test: the storage backends (SQLite and PostgreSQL), settings, clock,
and how a test's platform starts.

PostgreSQL tests create their own database and drop it afterwards. Where PostgreSQL is not
reachable they skip, unless QCFLOW_REQUIRE_POSTGRES is set (CI sets it), when they fail. The
PostgreSQL variants carry the `postgres` marker: `pytest -m "not postgres"` is the quick loop.

A test's platform (the `platform` fixture, and the app of tests/api) starts every tenant and
hashes passwords with the cheapest argon2, unless the test (or its module's `pytestmark`) says:
- `@pytest.mark.tenants("sdaq", "caq")`: start only these tenants (the registry stays whole);
- `@pytest.mark.real_hasher`: hash with argon2's recommended cost, as in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenants.runtime import Platform
from tenants.settings import Settings
from tests.support import Clock, PlatformOptions, beijing, platform_options_of

ADMIN_URL = os.environ.get(
    "QCFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e)


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("QCFLOW_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return ADMIN_URL


@contextmanager
def _database(postgres_admin: str) -> Iterator[str]:
    """A fresh database, dropped afterwards."""
    name = f"qcflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**{**conninfo_to_dict(postgres_admin), "dbname": name})
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgres_url(postgres_admin: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    with _database(postgres_admin) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url(postgres_admin: str) -> Iterator[str]:
    """A fresh database for the tests of one module, dropped after them."""
    with _database(postgres_admin) as url:
        yield url


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DATABASE_FIXTURES = {"postgres_url", "module_postgres_url", "postgres_admin"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `postgres` marker on every test that needs the server: the backend parameters'
    PostgreSQL variants carry it, and so does a test that asks for a database itself."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        on_postgres = "postgres" in (params.get("backend"), params.get("module_backend"))
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
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    return Settings(database_url=url, data_dir=tmp_path / "var", pg_pool_size=2)


@pytest.fixture(scope="module")
def module_settings(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Settings:
    """Settings shared by the tests of one module, on each backend (one PostgreSQL database
    per module): for situations built once and then only read."""
    url = request.getfixturevalue("module_postgres_url") if module_backend == "postgres" else None
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
