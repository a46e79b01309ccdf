"""API fixtures: the app over the test client, on each backend, with business time set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import Startup, restart_on
from tenants.settings import Settings
from tests.support import (
    APP_POLL,
    APPS,
    Clock,
    PlatformOptions,
    beijing,
    campaign_body,
    new_password,
    platform_options_of,
)


@pytest.fixture
def shared_app() -> Iterator[Litestar]:
    """An app of the process's (`APPS`: building its routes took most of an API test's setup),
    lent to the test, which starts it on its own settings (`anonymous`, `restart_for_test`)."""
    with APPS.lent() as app:
        yield app


@pytest.fixture
async def anonymous(
    shared_app: Litestar, settings: Settings, clock: Clock, platform_options: PlatformOptions
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app over the test client, signed in as nobody; its tenants and hasher as the test's
    markers say (tests/conftest.py)."""
    restart_for_test(shared_app, settings, clock, platform_options)
    async with AsyncTestClient(shared_app) as client:
        yield client


def restart_for_test(
    app: Litestar, settings: Settings, clock: Clock, options: PlatformOptions
) -> None:
    """The session's app set to start (when its client opens) on `settings` at the test's
    business time, with the tenants and hasher of `options`."""
    restart_on(
        app,
        Startup(
            settings,
            clock=clock,
            poll_interval=APP_POLL,
            only=options.only,
            passwords=options.passwords,
        ),
    )


@pytest.fixture(scope="module")
def module_clock() -> Clock:
    """Business time of a module's shared app (`module_anonymous`): the tests read it and leave
    it where it is."""
    return Clock(beijing(2024, 1, 15, 9, 30))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_anonymous(
    module_settings: Settings, module_clock: Clock, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncTestClient[Any]]:
    """One app over the test client for all the tests of a module, on each backend, signed in
    as nobody: for a situation built once (module-scoped fixtures) that the tests only read, or
    write to only where the write is refused. Its tenants and hasher as the module's markers
    say. Its tests run in the module's event loop: `pytest.mark.asyncio(loop_scope="module")`
    in the module's `pytestmark` (or on each of them, where the module's other tests start apps
    of their own), and its async fixtures `@pytest_asyncio.fixture(scope="module",
    loop_scope="module")`; a test does not mix it with the per-test `anonymous` or `client`."""
    options = platform_options_of(request.node)
    startup = Startup(
        module_settings,
        clock=module_clock,
        poll_interval=APP_POLL,
        only=options.only,
        passwords=options.passwords,
    )
    async with APPS.client(startup) as client:
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
