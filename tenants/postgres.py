"""PostgreSQL specifics of the tenant stores: provisioning the schemas, the NOTIFY channel, the
hash chain written with the events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import sql

from tenants.chain import ChainedRecorder, ChainStatements
from tenants.pool import ReadsRollBack


class TenantChannelRecorder(ReadsRollBack, ChainedRecorder, PostgresProcessRecorder):
    """The library's process recorder (events, and the tracking rows of what a forwarding
    process has followed, in one transaction), notifying on a channel named after the schema,
    and linking each event it inserts into the tenant's hash chain in the same transaction.

    The library names the channel after the unqualified table, so every tenant's writes would
    wake every tenant's listeners; one channel per schema wakes only the tenant's own.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ):
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        self.channel_name = channel_name(datastore.schema, events_table_name)
        schema = f'"{datastore.schema}".' if datastore.schema else ""
        prefix = events_table_name.removesuffix("_events")
        self.chain_statements = ChainStatements(
            events=f"{schema}{events_table_name}",
            chain=f"{schema}{prefix}_chain",
            checkpoints=f"{schema}{prefix}_chain_checkpoints",
            position="notification_id",
            param="%s",
            blob="BYTEA",
        )
        self.sql_create_statements.extend(
            sql.SQL(s).format() for s in self.chain_statements.create()
        )

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)

    def _lock_log(self, cursor: Any) -> None:
        self._lock_table(cursor)

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called inside the insert's transaction, after the events are in and under the
        # library's lock on the events table, which orders the log: the links go in with them.
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self._link_inserted(curs, positions, stored_events)
        return positions


def channel_name(schema: str, events_table_name: str) -> str:
    return f"{schema}_{events_table_name}"


def provision_schemas(conninfo: str, schemas: Iterable[str]) -> None:
    """Create each tenant's schema if missing (the library requires it to exist)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
