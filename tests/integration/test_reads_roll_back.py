"""A read commits nothing (`tenants.pool.rolled_back`): its BEGIN goes out with its first
statement and its ROLLBACK with the end of its pipeline (two round trips, counted by
`bench/profile_draft.py`), queued so that psycopg keeps the statements it prepared (ADR 30;
issue 22 §1)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from projections.store import open_view_database
from tenants.pool import _statement_error, committed, rolled_back
from tenants.runtime import Platform


@pytest.mark.parametrize("autocommit", [True, False])
def test_a_read_is_rolled_back_and_keeps_prepared_statements(
    postgres_url: str, autocommit: bool
) -> None:
    with psycopg.connect(postgres_url, autocommit=autocommit) as conn:
        for _ in range(2):
            with rolled_back(conn):
                row = conn.execute("SELECT %s::int + 1", (1,), prepare=True).fetchone()
            assert row == (2,)
        with rolled_back(conn):
            xid = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
        assert conn.info.transaction_status == TransactionStatus.IDLE
        conn.autocommit = True
        assert xid is not None
        status = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid[0],)).fetchone()
        assert status == ("aborted",)  # rolled back, not committed
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert prepared is not None and prepared[0] >= 1  # not DEALLOCATEd by the rollbacks


def test_a_failed_read_leaves_the_connection_idle_and_usable(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable), rolled_back(conn):
            conn.execute("SELECT * FROM qcflow_nowhere").fetchall()
        assert conn.info.transaction_status == TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.tenants("saq")
@pytest.mark.parametrize("backend", ["postgres"])
def test_a_view_s_one_statement_read_is_rolled_back_and_survives_an_error(
    platform: Platform,
) -> None:
    db = open_view_database(platform.tenants["saq"].location, "reads")
    try:
        (xid,) = db.read_rows("SELECT pg_current_xact_id()::text")[0]
        assert db.read_rows("SELECT pg_xact_status(:x::xid8)", {"x": xid}) == [("aborted",)]
        for _ in range(50):  # psycopg said "pipeline aborted" instead, one time in four or five
            with pytest.raises(psycopg.errors.UndefinedTable):
                db.read_rows("SELECT * FROM {qcflow_nowhere}")
        for _ in range(3):  # every connection of the pool still answers
            assert db.read_rows("SELECT :n::int + 1", {"n": 1}) == [(2,)]
    finally:
        db.close()


def test_a_write_that_fails_in_its_pipeline_raises_its_statements_error(postgres_url: str) -> None:
    """An append's duplicate key must read as one (a concurrent write), not "pipeline aborted"."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE qcflow_once (id int PRIMARY KEY)")
        conn.execute("INSERT INTO qcflow_once VALUES (1)")
        try:
            for _ in range(50):
                with pytest.raises(psycopg.errors.UniqueViolation), committed(conn):
                    conn.execute("INSERT INTO qcflow_once VALUES (1)")
                assert conn.info.transaction_status == TransactionStatus.IDLE
            count = conn.execute("SELECT count(*) FROM qcflow_once").fetchone()
            assert count == (1,)
        finally:
            conn.execute("DROP TABLE qcflow_once")


def test_the_failed_statements_error_is_raised_in_place_of_pipeline_aborted() -> None:
    """What psycopg raises at a pipeline's end when the skipped answers are read after the
    failed one (it happened one run in a few, by timing): the statement's error comes out."""
    with pytest.raises(psycopg.errors.UniqueViolation), _statement_error():
        try:
            raise psycopg.errors.UniqueViolation("duplicate key")
        except psycopg.Error:
            raise psycopg.errors.PipelineAborted("pipeline aborted")  # noqa: B904 (as psycopg)
    with pytest.raises(psycopg.errors.PipelineAborted), _statement_error():
        raise psycopg.errors.PipelineAborted("pipeline aborted")  # no statement's error behind it


@pytest.mark.parametrize("transaction", [committed, rolled_back])
def test_a_statement_prepared_after_a_failed_one_in_its_pipeline_still_answers(
    postgres_url: str, transaction: Any
) -> None:
    """psycopg marks a statement it has seen before as prepared when it queues the Parse, and
    the server skips that Parse after a failed statement: the next use said `prepared statement
    "_pg3_0" does not exist` (a runner's batch rewritten after a rebuild's swap, in CI)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for n in range(conn.prepare_threshold or 0):  # seen often enough to be prepared next
            conn.execute("SELECT %s::int + 1", (n,))
        with pytest.raises(psycopg.errors.DivisionByZero), transaction(conn):
            conn.execute("SELECT 1 / 0")
            conn.execute("SELECT %s::int + 1", (1,))
        assert conn.execute("SELECT %s::int + 1", (2,)).fetchone() == (3,)
        known = conn.execute("SELECT name FROM pg_prepared_statements").fetchall()
        assert set(conn._prepared._names.values()) <= {name.encode() for (name,) in known}
