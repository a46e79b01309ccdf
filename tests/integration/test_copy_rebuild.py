"""A rebuild's batches send their plain inserts by COPY (issue 22 §4): same rows, and every
statement that names a table sees the rows inserted into it before, in their order."""

from __future__ import annotations

import psycopg
import pytest

from projections.store import CopyingTx, _plain_insert, open_view_database
from tenants.runtime import Platform

pytestmark = pytest.mark.tenants("saq")


def test_only_plain_inserts_are_held_back() -> None:
    assert _plain_insert("INSERT INTO {t} (a, b) VALUES (:a, :b)") == ("t", ("a", "b"), ("a", "b"))
    assert _plain_insert("INSERT INTO {t} (a, b) VALUES (:x, :y)") == ("t", ("a", "b"), ("x", "y"))
    assert _plain_insert("INSERT INTO {t} (a) VALUES (:a) ON CONFLICT DO NOTHING") is None
    assert _plain_insert("INSERT INTO {t} (a, b) VALUES (:a, :b + 1)") is None
    assert _plain_insert("INSERT INTO {t} (a, b, c, d, e) VALUES (:a, TRUE, NULL, 'x', -2)") == (
        "t",
        ("a", "b", "c", "d", "e"),
        ("a", True, None, "x", -2),
    )
    assert _plain_insert("INSERT INTO {t} (a, b) VALUES (:a, now())") is None
    assert _plain_insert("INSERT INTO {t} (a, b) VALUES (:a, 'x, y')") is None
    assert _plain_insert("INSERT INTO {t} (a) SELECT a FROM {u}") is None
    assert _plain_insert("INSERT INTO {t} (a) VALUES (:a) RETURNING a") is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rows_copied_in_a_batch_are_seen_by_what_follows_them(platform: Platform) -> None:
    db = open_view_database(platform.tenants["saq"].location, "copy_test")
    try:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {copied}")
            tx.execute("DROP TABLE IF EXISTS {other}")
            tx.execute(
                "CREATE TABLE {copied} (id INTEGER PRIMARY KEY, name TEXT, amount INTEGER,"
                " done BOOLEAN NOT NULL DEFAULT FALSE, note TEXT)"
            )
            tx.execute("CREATE TABLE {other} (id INTEGER PRIMARY KEY, seen INTEGER)")
        with db.transaction(batch=True, copy=True) as tx:
            for i in range(1, 6):
                tx.execute(
                    "INSERT INTO {copied} (id, name, amount, note, done)"
                    " VALUES (:id, :name, :amount, :n, FALSE)",
                    {"id": i, "name": f"名{i}\t\\n", "amount": 3 * i, "n": None},
                )
            tx.execute("INSERT INTO {other} (id, seen) VALUES (:id, :seen)", {"id": 1, "seen": 0})
            # Names the table: its rows are there first.
            tx.execute("UPDATE {copied} SET done = TRUE WHERE id <= :id", {"id": 2})
            tx.execute(
                "INSERT INTO {copied} (id, name, amount, note) VALUES (:id, :name, :a, :n)",
                {"id": 6, "name": "后", "a": 0, "n": "x"},
            )
            counted = tx.execute("SELECT count(*) FROM {copied}")
            tx.execute("UPDATE {other} SET seen = :seen WHERE id = 1", {"seen": counted[0][0]})
            if isinstance(tx, CopyingTx):
                assert (
                    tx.copies == 3
                )  # {copied} before the update and the count, {other} before its update
        with db.read() as tx:
            rows = tx.execute("SELECT id, name, amount, done, note FROM {copied} ORDER BY id")
            other = tx.execute("SELECT seen FROM {other}")
        assert [(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows] == [
            (
                i,
                f"名{i}\t\\n" if i < 6 else "后",
                3 * i if i < 6 else 0,
                i <= 2,
                None if i < 6 else "x",
            )
            for i in range(1, 7)
        ]
        assert other == [(6,)]
    finally:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {copied}")
            tx.execute("DROP TABLE IF EXISTS {other}")
        db.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_failing_copy_fails_the_batch_whole(platform: Platform) -> None:
    db = open_view_database(platform.tenants["saq"].location, "copy_test")
    try:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {copied}")
            tx.execute("CREATE TABLE {copied} (id INTEGER PRIMARY KEY)")
        with (
            pytest.raises(psycopg.errors.UniqueViolation),
            db.transaction(batch=True, copy=True) as tx,
        ):
            tx.execute("INSERT INTO {copied} (id) VALUES (:id)", {"id": 1})
            tx.execute("INSERT INTO {copied} (id) VALUES (:id)", {"id": 1})
        with db.read() as tx:
            assert tx.execute("SELECT count(*) FROM {copied}") == [(0,)]
        with db.transaction(batch=True, copy=True) as tx:  # the pool's connection is fine
            tx.execute("INSERT INTO {copied} (id) VALUES (:id)", {"id": 2})
        with db.read() as tx:
            assert tx.execute("SELECT id FROM {copied}") == [(2,)]
    finally:
        with db.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS {copied}")
        db.close()
