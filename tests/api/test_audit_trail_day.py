"""The day of an auditor's trail, on SQLite and PostgreSQL: one rule, the tenant's date, for
writing a read and for listing a day's reads, at a moment when the UTC date and the Beijing date
differ (and for a tenant configured in another zone)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tenants.settings import TENANTS_DIR, Settings
from tests.api.conftest import sign_in
from tests.support import Clock, beijing

Client = AsyncTestClient[Any]


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped tenants, but Shandong's association keeps its days in UTC."""
    folder = tmp_path / "tenants"
    folder.mkdir()
    for path in TENANTS_DIR.glob("*.toml"):
        shutil.copy(path, folder / path.name)
    sdaq = folder / "sdaq.toml"
    text = sdaq.read_text(encoding="utf-8")
    assert 'time_zone = "Asia/Shanghai"' in text
    sdaq.write_text(text.replace('time_zone = "Asia/Shanghai"', 'time_zone = "UTC"'), "utf-8")
    return msgspec.structs.replace(settings, tenants_dir=folder)


async def reads_of(client: Client, tenant: str, headers: dict[str, str], **params: str) -> Any:
    response = await client.get(
        f"/api/v1/tenants/{tenant}/audit/reads", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_read_is_listed_under_the_tenants_date(anonymous: Client, clock: Clock) -> None:
    clock.now = beijing(2024, 1, 16, 7, 30)  # 15 January 23:30 UTC
    for tenant, day in (("saq", date(2024, 1, 16)), ("sdaq", date(2024, 1, 15))):
        auditor = await sign_in(anonymous, tenant, Role.AUDITOR)
        today = await reads_of(anonymous, tenant, auditor)  # this listing is itself a read
        assert today["on"] == day.isoformat(), tenant
        assert [r["what"] for r in today["reads"]] == ["reads"], tenant
        on_that_day = await reads_of(anonymous, tenant, auditor, on=day.isoformat())
        assert [r["what"] for r in on_that_day["reads"]] == ["reads", "reads"], tenant
        other = date(2024, 1, 31 - day.day)  # the 15th for the 16th, the 16th for the 15th
        assert (await reads_of(anonymous, tenant, auditor, on=other.isoformat()))["reads"] == []
        ledger = anonymous.app.state.platform.tenants[tenant].ledger
        trail = ledger.audit_trail(today["account_id"], day)
        assert trail is not None and trail.on == day and len(trail.reads) == 3
