"""Tenants on several PostgreSQL servers (ADR 30): a tenant's schema lives where its own URL
says (QCFLOW_DATABASE_URL_<TENANT>), the others' on QCFLOW_DATABASE_URL's server; a forwarding
follower holds its claim on the national tenant's server and is woken by the province's writes
on the other."""

from __future__ import annotations

import time

import psycopg
import pytest

from tenants.runtime import Platform
from tenants.settings import Settings
from tests.integration.forwarding_support import (
    forward,
    national_call,
    open_national_campaign,
    open_provincial_campaign,
)
from tests.integration.test_forwarding import follower, received_ids

pytestmark = pytest.mark.postgres


@pytest.fixture
def platform(postgres_url: str, second_postgres_url: str, tmp_path: object) -> object:
    settings = Settings(
        database_url=postgres_url,
        tenant_database_urls={"caq": second_postgres_url},
        data_dir=tmp_path / "var",  # type: ignore[operator]
        pg_pool_size=2,
    )
    platform = Platform.from_settings(settings, only=["saq", "caq"])
    try:
        yield platform
    finally:
        platform.close()


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        return {str(r[0]) for r in rows}


def test_each_tenant_lives_on_its_own_server(
    platform: Platform, postgres_url: str, second_postgres_url: str
) -> None:
    saq, caq = platform.tenants["saq"], platform.tenants["caq"]

    assert saq.tenant.schema in _schemas(postgres_url)
    assert caq.tenant.schema not in _schemas(postgres_url)
    assert caq.tenant.schema in _schemas(second_postgres_url)
    assert saq.tenant.schema not in _schemas(second_postgres_url)


def test_the_intake_is_woken_by_a_forward_on_the_other_server(platform: Platform) -> None:
    caq, saq = platform.tenants["caq"], platform.tenants["saq"]
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(saq.ledger)
    call = national_call(platform, "saq", national)

    with follower(platform, "saq") as intake:
        intake.start()
        _until(lambda: intake.status().state == "active", "the follower became active")
        time.sleep(0.5)  # its first look found nothing: from now on only a notification wakes it
        _, national_id = forward(saq, provincial, call, 1)  # notifies on saq's server only
        _until(lambda: national_id in received_ids(platform), "the forward was received")

    assert received_ids(platform)[national_id] == 1
    assert caq.ledger.tracked_position("saq") == saq.ledger.recorder.max_notification_id()


def test_a_tenant_url_without_the_default_server_is_refused() -> None:
    with pytest.raises(SystemExit, match="QCFLOW_DATABASE_URL_CAQ places a tenant on PostgreSQL"):
        Settings.from_env({"QCFLOW_DATABASE_URL_CAQ": "postgresql://127.0.0.1:5433/qcflow"})


def _until(condition: object, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def test_a_tenant_url_places_that_tenant_only() -> None:
    settings = Settings.from_env(
        {
            "QCFLOW_DATABASE_URL": "postgresql://127.0.0.1:5432/qcflow",
            "QCFLOW_DATABASE_URL_CAQ": "postgresql://127.0.0.1:5433/qcflow",
        }
    )
    assert settings.database_url_of("caq") == "postgresql://127.0.0.1:5433/qcflow"
    assert settings.database_url_of("saq") == "postgresql://127.0.0.1:5432/qcflow"


def test_a_tenant_url_naming_no_tenant_stops_the_start(postgres_url: str, tmp_path: object) -> None:
    settings = Settings(
        database_url=postgres_url,
        tenant_database_urls={"xyz": postgres_url},
        data_dir=tmp_path / "var",  # type: ignore[operator]
    )
    with pytest.raises(ValueError, match=r"names no tenant: \['xyz'\]"):
        Platform.from_settings(settings)
