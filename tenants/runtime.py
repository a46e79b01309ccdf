"""Each tenant's runtime: its ledger (event store) on SQLite or in its own PostgreSQL schema.

With no database URL, a tenant's events live in `<data dir>/<code>/ledger.sqlite` and each of
its views in a file beside it; with a PostgreSQL URL, everything of a tenant lives in the
schema `t_<code>`, created at start if missing.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aggregates.campaign import Programme
from aggregates.credentials import Passwords
from aggregates.ledger.application import AssociationLedger
from aggregates.ledger.base import TenantFacts
from tenants.chain import ChainedRecorder, chain_of
from tenants.files import LocalFileStore
from tenants.pool import SharedPoolFactory
from tenants.postgres import (
    TenantChannelRecorder,
    channel_name,
    provision_schemas,
    startup_lock,
)
from tenants.registry import Tenant, TenantRegistry
from tenants.settings import Settings
from tenants.sqlite import ChainedSQLiteRecorder
from tenants.transcoder import LeanMapper, MsgspecTranscoder


@dataclass(frozen=True)
class StoreLocation:
    """Where one tenant's data lives: a folder of SQLite files, or a PostgreSQL schema."""

    tenant: str
    sqlite_dir: Path | None = None
    conninfo: str | None = None
    schema: str | None = None
    pool_size: int = 2
    """PostgreSQL: the connections of the process's shared view pool (QCFLOW_PG_POOL_SIZE)."""

    @property
    def is_postgres(self) -> bool:
        return self.conninfo is not None

    def sqlite_path(self, name: str) -> Path:
        if self.sqlite_dir is None:
            raise ValueError("not an SQLite location")
        return self.sqlite_dir / f"{name}.sqlite"

    @property
    def ledger_channel(self) -> str:
        """The NOTIFY channel of the tenant's ledger (PostgreSQL)."""
        return channel_name(self.schema or "", f"{AssociationLedger.name}_events")

    def ledger_env(self, pool_size: int) -> dict[str, str]:
        env: dict[str, Any] = {
            AssociationLedger.TENANT: self.tenant,
            "TRANSCODER_TOPIC": get_topic(MsgspecTranscoder),
            "MAPPER_TOPIC": get_topic(LeanMapper),
        }
        if self.conninfo is None:
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path(AssociationLedger.name)),
                "SQLITE_LOCK_TIMEOUT": "10",
                "PROCESS_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
            }
        else:
            if not self.schema:
                raise ValueError(f"{self.tenant}: a PostgreSQL store needs its schema")
            params = conninfo_to_dict(self.conninfo)
            env |= {
                "POSTGRES_DBNAME": params.get("dbname", ""),
                "POSTGRES_HOST": params.get("host", "127.0.0.1"),
                "POSTGRES_PORT": str(params.get("port", "5432")),
                "POSTGRES_USER": params.get("user", ""),
                "POSTGRES_PASSWORD": params.get("password", ""),
                "POSTGRES_SCHEMA": self.schema,
                # One pool of `pool_size` for every tenant of the process (tenants/pool.py).
                "PERSISTENCE_MODULE": get_topic(SharedPoolFactory),
                "POSTGRES_POOL_SIZE": str(pool_size),
                "POSTGRES_MAX_OVERFLOW": "0",
                # The library waits forever for its table lock unless told otherwise.
                "POSTGRES_LOCK_TIMEOUT": "5",
                "POSTGRES_CONNECT_TIMEOUT": "10",
                "PROCESS_RECORDER_TOPIC": get_topic(TenantChannelRecorder),
                # Its insert function skips the table lock (tailing readers miss events) and
                # drops tracking records: never on, whatever the process environment says.
                "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            }
        # Prefixed keys, so a stray unprefixed variable in the process environment cannot win.
        prefix = AssociationLedger.name.upper()
        return {f"{prefix}_{key}": str(value) for key, value in env.items()}


def facts_of(tenant: Tenant) -> TenantFacts:
    """What the tenant's configuration tells its ledger's commands."""
    return TenantFacts(
        units=tuple(u.code for u in tenant.recommending_units),
        key_domains=frozenset(tenant.key_domains),
        key_industries=frozenset(n for group in tenant.key_industries for n in group.names),
        grades={
            programme: {g.code: g.name_zh for g in config.grades}
            for programme, config in tenant.programmes.items()
        },
    )


class TenantRuntime:
    """One tenant: its configuration, its ledger and where its views live."""

    def __init__(
        self, tenant: Tenant, location: StoreLocation, pool_size: int, files: LocalFileStore
    ) -> None:
        self.tenant = tenant
        self.location = location
        self.files = files
        """Its uploaded files (attachments), kept under their SHA-256."""
        self.ledger = AssociationLedger(location.ledger_env(pool_size))
        self.ledger.zone = tenant.zone
        self.ledger.facts = facts_of(tenant)
        # A store from before the hash chain: chained from here on, as found (ADR 16).
        self.chain.adopt()

    @property
    def chain(self) -> ChainedRecorder:
        """The tenant's hash chain over its event log."""
        return chain_of(self.ledger.recorder)

    def grade_names(self, programme: Programme) -> dict[str, str]:
        """The tenant's grades of a programme, code → name (e.g. benchmark → 标杆级)."""
        return self.ledger.facts.grade_names(programme)

    def close(self) -> None:
        self.ledger.close()


class Platform:
    """Every tenant of this process, built once at start and closed at shutdown.

    Two options exist for tests, never read from the environment: `only` starts just the named
    tenants of the registry (the registry stays whole; a tenant not started is unknown to the
    API, and a forwarding edge runs only when both its ends are started), and `passwords`
    replaces every ledger's password hasher (a cheap argon2, so that tests do not spend their
    time hashing)."""

    def __init__(
        self,
        settings: Settings,
        registry: TenantRegistry,
        *,
        only: Collection[str] | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.tenants: dict[str, TenantRuntime] = {}
        unknown = sorted(set(only or ()) - {t.code for t in registry})
        if unknown:
            raise ValueError(f"no such tenants in the registry: {unknown}")
        started = [t for t in registry if only is None or t.code in only]
        strangers = sorted(set(settings.tenant_database_urls) - {t.code for t in registry})
        if strangers:
            raise ValueError(f"QCFLOW_DATABASE_URL_<TENANT> names no tenant: {strangers}")
        conninfo = _conninfo(settings.database_url) if settings.database_url else None
        self.conninfo = conninfo
        """The default server (QCFLOW_DATABASE_URL), whose advisory lock orders every start."""
        servers = {t.code: self._server_of(t.code) for t in started}
        try:
            # Schemas, the library's tables and the chain's: created by one process at a time,
            # so that any number of processes can start together.
            with self.startup_lock():
                for server in sorted({s for s in servers.values() if s is not None}):
                    schemas = (t.schema for t in started if servers[t.code] == server)
                    provision_schemas(server, schemas)
                for tenant in started:
                    runtime = TenantRuntime(
                        tenant,
                        self._location(tenant, servers[tenant.code]),
                        settings.pg_pool_size,
                        LocalFileStore(settings.data_dir / "files" / tenant.code),
                    )
                    self.tenants[tenant.code] = runtime
                    if passwords is not None:
                        runtime.ledger.passwords = passwords
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        only: Collection[str] | None = None,
        passwords: Passwords | None = None,
    ) -> Platform:
        registry = TenantRegistry.load(settings.tenants_dir)
        return cls(settings, registry, only=only, passwords=passwords)

    def _server_of(self, code: str) -> str | None:
        url = self.settings.database_url_of(code)
        return _conninfo(url) if url else None

    def _location(self, tenant: Tenant, conninfo: str | None) -> StoreLocation:
        if conninfo is not None:
            return StoreLocation(
                tenant.code,
                conninfo=conninfo,
                schema=tenant.schema,
                pool_size=self.settings.pg_pool_size,
            )
        folder = self.settings.data_dir / tenant.code
        folder.mkdir(parents=True, exist_ok=True)
        return StoreLocation(tenant.code, sqlite_dir=folder.resolve())

    def startup_lock(self) -> AbstractContextManager[None]:
        """Held while this process creates what it needs in the database (tables of the read
        models and stores built after the platform): one process at a time (ADR 26)."""
        return startup_lock(self.conninfo)

    def get(self, code: str) -> TenantRuntime | None:
        return self.tenants.get(code)

    def close(self) -> None:
        for runtime in self.tenants.values():
            runtime.close()


def _conninfo(url: str) -> str:
    # Normalise a URL or key=value string into key=value form for psycopg and the library.
    return make_conninfo("", **conninfo_to_dict(url))
