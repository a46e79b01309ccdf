"""Writing to a tenant's store behind the platform's back, as someone with database access would:
what the audit's recomputation and tamper evidence must catch. Tests only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from tenants.runtime import StoreLocation


class BehindTheBack:
    """Plain SQL on one tenant's ledger tables, in one committed transaction per call."""

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        # The library names the tables after the application on PostgreSQL only.
        prefix = "ledger" if location.is_postgres else "stored"
        self.events = f"{prefix}_events"
        self.chain = f"{prefix}_chain"
        self.checkpoints = f"{prefix}_chain_checkpoints"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.location.is_postgres:
            with psycopg.connect(self.location.conninfo or "", autocommit=False) as conn:
                conn.execute(
                    sql.SQL("SET search_path TO {}").format(
                        sql.Identifier(self.location.schema or "")
                    )
                )
                with conn.cursor() as cursor:
                    yield cursor
                conn.commit()
        else:
            lite = sqlite3.connect(self.location.sqlite_path("ledger"))
            try:
                yield lite.cursor()
                lite.commit()
            finally:
                lite.close()

    def _id(self, originator_id: UUID) -> Any:
        return originator_id if self.location.is_postgres else originator_id.hex

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.location.is_postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run `statement` (with `?` placeholders on either backend); its rows, if any."""
        with self._cursor() as cursor:
            cursor.execute(self._sql(statement), params)
            return list(cursor.fetchall()) if cursor.description else []

    def state(self, originator_id: UUID, version: int) -> bytes:
        (row,) = self.execute(
            f"SELECT state FROM {self.events} WHERE originator_id = ? AND originator_version = ?",
            (self._id(originator_id), version),
        )
        return bytes(row[0])

    def position(self, originator_id: UUID, version: int) -> int:
        """The event's notification id (its place in the tenant's log)."""
        column = "notification_id" if self.location.is_postgres else "rowid"
        (row,) = self.execute(
            f"SELECT {column} FROM {self.events} WHERE originator_id = ? AND originator_version = ?",
            (self._id(originator_id), version),
        )
        return int(row[0])

    def rewrite(self, originator_id: UUID, version: int, state: bytes) -> None:
        self.execute(
            f"UPDATE {self.events} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self._id(originator_id), version),
        )

    def delete(self, originator_id: UUID, version: int) -> None:
        self.execute(
            f"DELETE FROM {self.events} WHERE originator_id = ? AND originator_version = ?",
            (self._id(originator_id), version),
        )

    def notify(self) -> None:
        """Wake the tenant's runners as a write of the platform would (PostgreSQL: they listen
        and do not poll; SQLite: they poll, nothing to do)."""
        if self.location.is_postgres:
            with self._cursor() as cursor:
                cursor.execute(
                    sql.SQL("NOTIFY {}").format(sql.Identifier(self.location.ledger_channel))
                )

    def insert(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        """A new stored event, given the next place in the log; answers that place."""
        self.execute(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (self._id(originator_id), version, topic, state),
        )
        return self.position(originator_id, version)
