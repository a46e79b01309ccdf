"""`ViewDatabase.read_rows` (ADR 0031): one statement that only reads, the same rows as `read()`,
whatever its parameters hold, and a connection left idle after an error (its round trips and
psycopg's prepared statements: tests/integration/test_reads_roll_back.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from projections.store import PostgresViewDatabase, ViewDatabase, open_view_database
from tenants.runtime import Platform

pytestmark = pytest.mark.tenants("saq")

QUERY = (
    "SELECT id, name, :label AS label FROM {read_rows_test}"
    " WHERE id >= :least AND name <> 'x' ORDER BY id"
)


@pytest.fixture
def db(platform: Platform) -> Iterator[ViewDatabase]:
    db = open_view_database(platform.tenants["saq"].location, "read_rows_test")
    with db.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS {read_rows_test}")
        tx.execute("CREATE TABLE {read_rows_test} (id INTEGER PRIMARY KEY, name TEXT)")
        for i in range(1, 5):
            tx.execute(
                "INSERT INTO {read_rows_test} (id, name) VALUES (:id, :name)",
                {"id": i, "name": f"n{i}'\"%s"},
            )
    try:
        yield db
    finally:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {read_rows_test}")
        db.close()


def read(db: ViewDatabase, least: int) -> list[tuple[Any, ...]]:
    with db.read() as tx:
        return tx.execute(QUERY, {"least": least, "label": "标签 'x' %(y)s"})


def test_the_same_rows_as_a_read(db: ViewDatabase) -> None:
    for least in (1, 3, 9):
        params = {"least": least, "label": "标签 'x' %(y)s"}
        assert db.read_rows(QUERY, params) == read(db, least)
    assert [r[0] for r in db.read_rows(QUERY, {"least": 2, "label": "l"})] == [2, 3, 4]


def test_an_error_leaves_the_connection_idle_and_usable(db: ViewDatabase) -> None:
    with pytest.raises(Exception, match="no_such_table"):
        db.read_rows("SELECT id FROM {no_such_table} WHERE id = :id", {"id": 1})
    for _ in range(4):
        assert [r[0] for r in db.read_rows(QUERY, {"least": 4, "label": "l"})] == [4]
    if isinstance(db, PostgresViewDatabase):
        with db._pool.connection() as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_parameter_named_twice_binds_as_written(db: ViewDatabase) -> None:
    """Parameters by name on both engines (SQLite's are bound by position, in their order). A
    colon after a letter or a digit is not a parameter ('12:30', 'a:b')."""
    rows = db.read_rows(
        "SELECT :b AS b, id, :a AS a, '12:30 a:b' AS t FROM {read_rows_test}"
        " WHERE id = :a OR id = :b ORDER BY id",
        {"a": 3, "b": 1, "unused": "x"},
    )
    assert rows == [(1, 1, 3, "12:30 a:b"), (1, 3, 3, "12:30 a:b")]
    with pytest.raises((KeyError, psycopg.ProgrammingError), match="missing"):
        db.read_rows("SELECT :missing FROM {read_rows_test}", {"a": 1})
