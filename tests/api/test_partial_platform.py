"""A platform started with only some tenants (as tests start it): a registered tenant that is not
started answers 503 naming it, not the 404 of a tenant that does not exist, so a test that
forgot to start a tenant cannot pass on "not found"."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.tenants("saq")


async def test_a_tenant_not_started_is_unavailable_and_an_unknown_one_not_found(
    anonymous: AsyncTestClient[Any],
) -> None:
    body = {"login": "someone@example.cn", "password": "Qc-not-a-real-one-9a"}
    not_started = await anonymous.post("/api/v1/tenants/sdaq/session", json=body)
    assert not_started.status_code == 503, not_started.text
    assert [(e["field"], e["rule"]) for e in not_started.json()["errors"]] == [
        ("tenant", "not_started")
    ]
    unknown = await anonymous.post("/api/v1/tenants/nowhere/session", json=body)
    assert unknown.status_code == 404, unknown.text
    assert [(e["field"], e["rule"]) for e in unknown.json()["errors"]] == [("tenant", "not_found")]
    started = await anonymous.post("/api/v1/tenants/saq/session", json=body)
    assert started.status_code == 401, started.text
