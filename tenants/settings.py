"""Process settings, read once from the environment at start; documented in the README."""

from __future__ import annotations

import os
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated

import msgspec

MIN_SECRET_BYTES = 32
TENANTS_DIR = Path(__file__).resolve().parent
TENANT_URL_PREFIX = "QCFLOW_DATABASE_URL_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Where data lives and how the process runs. No credential has a default."""

    database_url: str | None = None
    """QCFLOW_DATABASE_URL: a PostgreSQL URL; unset means the embedded SQLite default."""
    tenant_database_urls: dict[str, str] = {}
    """QCFLOW_DATABASE_URL_<TENANT> (e.g. QCFLOW_DATABASE_URL_CAQ): the PostgreSQL server of one
    tenant's schema, when it is not QCFLOW_DATABASE_URL's (tenants on several servers)."""
    data_dir: Path = Path("var")
    """QCFLOW_DATA_DIR: the SQLite files (one per tenant ledger and per view) and uploads."""
    tenants_dir: Path = TENANTS_DIR
    """QCFLOW_TENANTS_DIR: the folder of tenant TOML files (one file per tenant)."""
    host: str = "127.0.0.1"
    """QCFLOW_HOST"""
    port: int = 8000
    """QCFLOW_PORT"""
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    """QCFLOW_WORKERS: processes `qcflow serve` runs (uvicorn workers on one socket), each with its
    own pools; about one per core the web may use (ADR 0031)."""
    run_projections: bool = True
    """QCFLOW_RUN_PROJECTIONS: run the projection runners inside the web process."""
    log_format: str = "auto"
    """QCFLOW_LOG_FORMAT: auto (console on a terminal, JSON lines otherwise), json or console."""
    log_level: str = "info"
    """QCFLOW_LOG_LEVEL"""
    pg_pool_size: int = 4
    """QCFLOW_PG_POOL_SIZE: connections each tenant ledger keeps open on PostgreSQL."""
    secret_key: str | None = None
    """QCFLOW_SECRET_KEY: signs session tokens, at least 32 bytes; unset, a random key is kept
    in the data dir."""
    public_url: str | None = None
    """QCFLOW_PUBLIC_URL: the address users reach, for links in mails and on certificates;
    unset, this process's own address (`base_url`)."""
    smtp_url: str | None = None
    """QCFLOW_SMTP_URL: smtp[s]://user:password@host:port; unset, mails are written to
    <data dir>/mail/ instead of sent (development)."""
    mail_from: str = "qcflow@localhost"
    """QCFLOW_MAIL_FROM"""
    session_hours: int = 8
    """QCFLOW_SESSION_HOURS: how long a sign-in lasts."""
    metrics_token: Annotated[str, msgspec.Meta(min_length=32)] | None = None
    """QCFLOW_METRICS_TOKEN: the operations token (at least 32 characters), sent as
    `Authorization: Bearer …`, for `/metrics` and the detail of `/health`; unset, neither is
    served (`/health` answers up or down only)."""

    trusted_proxies: str = ""
    """QCFLOW_TRUSTED_PROXIES: comma-separated addresses or networks of the reverse proxies whose
    X-Forwarded-For is believed; empty (the default), the peer's own address is the client's."""

    def database_url_of(self, tenant: str) -> str | None:
        """Where a tenant's schema lives: its own server, else QCFLOW_DATABASE_URL's."""
        return self.tenant_database_urls.get(tenant, self.database_url)

    def __post_init__(self) -> None:
        if self.tenant_database_urls and self.database_url is None:
            names = ", ".join(
                f"{TENANT_URL_PREFIX}{code.upper()}" for code in self.tenant_database_urls
            )
            msg = f"{names} places a tenant on PostgreSQL: set QCFLOW_DATABASE_URL too (the others' server)"
            raise ValueError(msg)
        if self.secret_key is not None and len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            msg = (
                f"QCFLOW_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes of random text"
                " (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'), or unset"
                " to keep a random key in the data directory"
            )
            raise ValueError(msg)
        try:
            self.proxy_networks()
        except ValueError as e:
            msg = f"QCFLOW_TRUSTED_PROXIES: {e}"
            raise ValueError(msg) from None

    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The trusted proxies, as networks (a single address is a network of one)."""
        return tuple(
            ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    @property
    def base_url(self) -> str:
        """Where users reach the platform: QCFLOW_PUBLIC_URL, else the address served
        (QCFLOW_HOST and QCFLOW_PORT; a server on every interface is reached on loopback here)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            field: env[f"QCFLOW_{field.upper()}"]
            for field in cls.__struct_fields__
            if env.get(f"QCFLOW_{field.upper()}")
        }
        values["tenant_database_urls"] = {
            name.removeprefix(TENANT_URL_PREFIX).lower(): url
            for name, url in env.items()
            if name.startswith(TENANT_URL_PREFIX) and url
        }
        try:
            return msgspec.convert(values, cls, strict=False, dec_hook=_decode_path)
        except msgspec.ValidationError as e:
            msg = f"configuration: {e} (environment variables QCFLOW_*)"
            raise SystemExit(msg) from None


def _decode_path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(f"cannot read {kind} from the environment")
