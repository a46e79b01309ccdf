"""`ViewDatabase.read_one` (ADR 0031): one statement that only reads, the same rows as `read()`;
on PostgreSQL in one round trip (BEGIN, the statement prepared once per connection, ROLLBACK),
committing nothing, surviving the loss of its prepared statement, and leaving psycopg's own
prepared statements and the connection as they were."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from projections.store import PostgresViewDatabase, ViewDatabase, open_view_database
from tenants.runtime import Platform

pytestmark = pytest.mark.tenants("saq")

QUERY = (
    "SELECT id, name, :label AS label FROM {read_one_test}"
    " WHERE id >= :least AND name <> 'x' ORDER BY id"
)


@pytest.fixture
def db(platform: Platform) -> Iterator[ViewDatabase]:
    db = open_view_database(platform.tenants["saq"].location, "read_one_test")
    with db.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS {read_one_test}")
        tx.execute("CREATE TABLE {read_one_test} (id INTEGER PRIMARY KEY, name TEXT)")
        for i in range(1, 5):
            tx.execute(
                "INSERT INTO {read_one_test} (id, name) VALUES (:id, :name)",
                {"id": i, "name": f"n{i}'\"%s"},
            )
    try:
        yield db
    finally:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {read_one_test}")
        db.close()


def read(db: ViewDatabase, least: int) -> list[tuple[Any, ...]]:
    with db.read() as tx:
        return tx.execute(QUERY, {"least": least, "label": "标签 'x' %(y)s"})


def test_the_same_rows_as_a_read(db: ViewDatabase) -> None:
    for least in (1, 3, 9):
        params = {"least": least, "label": "标签 'x' %(y)s"}
        assert db.read_one(QUERY, params) == read(db, least)
    assert [r[0] for r in db.read_one(QUERY, {"least": 2, "label": "l"})] == [2, 3, 4]


def test_on_postgresql_one_query_that_commits_nothing(db: ViewDatabase) -> None:
    if not isinstance(db, PostgresViewDatabase):
        pytest.skip("SQLite: in-process, no round trips")
    sent: list[str] = []
    original = psycopg.ClientCursor.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return original(self, query, *args, **kwargs)

    psycopg.ClientCursor.execute = counting  # type: ignore[method-assign]
    try:
        for _ in range(3):
            db.read_one(QUERY, {"least": 1, "label": "l"})
    finally:
        psycopg.ClientCursor.execute = original  # type: ignore[method-assign]
    # One query each (one round trip): BEGIN; [PREPARE …;] EXECUTE …; ROLLBACK.
    assert len(sent) == 3
    assert all(q.startswith("BEGIN; ") and q.endswith("; ROLLBACK") for q in sent)
    assert sum("PREPARE" in q for q in sent) <= 2  # once per connection of the pool (2)
    with db._pool.connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.autocommit is False


def test_a_lost_prepared_statement_is_prepared_again(db: ViewDatabase) -> None:
    if not isinstance(db, PostgresViewDatabase):
        pytest.skip("PostgreSQL only")
    expected = read(db, 2)
    assert db.read_one(QUERY, {"least": 2, "label": "标签 'x' %(y)s"}) == expected
    for _ in range(4):  # DEALLOCATE ALL on each connection of the pool (as psycopg may send)
        with db._pool.connection() as conn:
            conn.execute("DEALLOCATE ALL")
            conn.commit()
    for _ in range(4):
        assert db.read_one(QUERY, {"least": 2, "label": "标签 'x' %(y)s"}) == expected


def psycopgs(conn: psycopg.Connection[Any]) -> set[str]:
    """The statements psycopg prepared on the connection (named `_pg3_…`)."""
    rows = conn.execute("SELECT name FROM pg_prepared_statements").fetchall()
    conn.commit()
    return {str(r[0]) for r in rows if str(r[0]).startswith("_pg3_")}


def test_psycopgs_own_prepared_statements_are_kept(db: ViewDatabase) -> None:
    if not isinstance(db, PostgresViewDatabase):
        pytest.skip("PostgreSQL only")
    pool = db._pool
    with pool.connection() as first, pool.connection() as second:  # the pool's two
        for conn in (first, second):
            for _ in range(8):  # past psycopg's threshold (5): prepared
                conn.execute("SELECT 1 + %s", (1,)).fetchall()
            conn.commit()  # psycopg's rollback() would deallocate them itself
        kept = {id(conn): psycopgs(conn) for conn in (first, second)}
    assert all(kept.values())
    for _ in range(8):
        db.read_one(QUERY, {"least": 1, "label": "l"})
    with pool.connection() as first, pool.connection() as second:
        assert {id(conn): psycopgs(conn) for conn in (first, second)} == kept


def test_an_error_leaves_the_connection_idle_and_usable(db: ViewDatabase) -> None:
    with pytest.raises(Exception, match="no_such_table"):
        db.read_one("SELECT id FROM {no_such_table} WHERE id = :id", {"id": 1})
    for _ in range(4):
        assert [r[0] for r in db.read_one(QUERY, {"least": 4, "label": "l"})] == [4]
    if isinstance(db, PostgresViewDatabase):
        with db._pool.connection() as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
