"""PostgreSQL specifics of the tenant stores: provisioning the schemas, the NOTIFY channel."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import sql


class TenantChannelRecorder(PostgresProcessRecorder):
    """The library's process recorder (events, and the tracking rows of what a forwarding
    process has followed, in one transaction), notifying on a channel named after the schema.

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


def channel_name(schema: str, events_table_name: str) -> str:
    return f"{schema}_{events_table_name}"


def provision_schemas(conninfo: str, schemas: Iterable[str]) -> None:
    """Create each tenant's schema if missing (the library requires it to exist)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
