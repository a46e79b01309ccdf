"""A platform that gets no PostgreSQL connection says why, not a bare `PoolTimeout` after 30 s."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import PoolTimeout

from tenants.pool import database_unavailable
from tests.integration.test_cli_accounts import qcflow


@pytest.fixture
def limited_url(postgres_admin: str, postgres_url: str) -> Iterator[str]:
    """The test's database, reached as a role allowed one connection (as a server whose
    max_connections other clients have taken)."""
    role = f"qcflow_limited_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_admin, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT 1").format(sql.Identifier(role))
        )
    try:
        yield make_conninfo(postgres_url, user=role)
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_command_names_the_connection_limit_without_a_traceback(
    limited_url: str, tmp_path: Path
) -> None:
    result = qcflow(["projections", "status"], tmp_path, database_url=limited_url)

    assert result.returncode == 1
    assert "no connection to PostgreSQL at" in result.stderr
    assert "too many connections" in result.stderr
    assert "2 × QCFLOW_PG_POOL_SIZE + 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pool_that_timed_out_is_explained_by_the_server(
    limited_url: str, postgres_url: str
) -> None:
    timed_out = PoolTimeout("couldn't get a connection after 30.00 sec")
    with psycopg.connect(limited_url):  # the role's one connection, taken
        refused = str(database_unavailable(limited_url, timed_out))
    busy = str(database_unavailable(postgres_url, timed_out))

    assert "too many connections for role" in refused
    assert "after 30.00 sec" in refused
    assert "every connection of this process's pools was busy" in busy
    assert "QCFLOW_PG_POOL_SIZE" in busy
