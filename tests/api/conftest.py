"""API fixtures: the app over the test client, on each backend, with business time set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import create_app
from tenants.settings import Settings
from tests.support import Clock, PlatformOptions, campaign_body, new_password


@pytest.fixture
async def anonymous(
    settings: Settings, clock: Clock, platform_options: PlatformOptions
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app over the test client, signed in as nobody; its tenants and hasher as the test's
    markers say (tests/conftest.py)."""
    app = create_app(
        settings,
        clock=clock,
        poll_interval=0.05,
        only=platform_options.only,
        passwords=platform_options.passwords,
    )
    async with AsyncTestClient(app) as client:
        yield client


def make_account(
    client: AsyncTestClient[Any], tenant: str, role: Role, scope: str | None = None
) -> tuple[str, str]:
    """A new active account of the tenant holding the role; its login and password."""
    ledger = client.app.state.platform.tenants[tenant].ledger
    login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name="测试用户",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(role, scope)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


async def sign_in(
    client: AsyncTestClient[Any], tenant: str, role: Role, scope: str | None = None
) -> dict[str, str]:
    """A new active account of the tenant holding the role, signed in; its bearer header."""
    login, password = make_account(client, tenant, role, scope)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/session", json={"login": login, "password": password}
    )
    assert response.status_code == 201, response.text
    client.cookies.clear()  # bearer only: cookie sessions are tested on their own
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
async def client(anonymous: AsyncTestClient[Any]) -> AsyncTestClient[Any]:
    """The app over the test client, signed in as a secretariat user of saq."""
    anonymous.headers.update(await sign_in(anonymous, "saq", Role.SECRETARIAT))
    return anonymous


@pytest.fixture
async def opened(client: AsyncTestClient[Any]) -> dict[str, Any]:
    """A situation: saq has opened its 2020 team campaign."""
    response = await client.post("/api/v1/tenants/saq/campaigns", json=campaign_body())
    assert response.status_code == 201, response.text
    return dict(response.json())
