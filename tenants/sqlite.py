"""SQLite specifics of the tenant stores: the hash chain written with the events."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteProcessRecorder

from tenants.chain import ChainedRecorder, ChainStatements, Cursor


class ChainedSQLiteRecorder(ChainedRecorder, SQLiteProcessRecorder):
    """The library's SQLite process recorder, linking what it inserts."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        prefix = events_table_name.removesuffix("_events")
        self.chain_statements = ChainStatements(
            events=events_table_name,
            chain=f"{prefix}_chain",
            checkpoints=f"{prefix}_chain_checkpoints",
            position="rowid",
            param="?",
            blob="BLOB",
        )
        super().__init__(datastore, events_table_name=events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.chain_statements.create()

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)

    def _originator(self, originator_id: UUID) -> object:
        return originator_id.hex

    def _lock_log(self, cursor: Cursor) -> None:
        # A write takes SQLite's one write lock for the rest of the transaction.
        cursor.execute(f"DELETE FROM {self.chain_statements.chain} WHERE 0")  # noqa: S608

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        self._link_inserted(c, positions, stored_events)
        return positions
