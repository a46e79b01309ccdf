"""API fixtures: the app over the test client, on each backend, with business time set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tenants.settings import Settings
from tests.support import SECRETARIAT, Clock, campaign_body


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings, clock=clock, poll_interval=0.05)
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def opened(client: AsyncTestClient[Any]) -> dict[str, Any]:
    """A situation: saq has opened its 2020 team campaign."""
    response = await client.post(
        "/api/v1/tenants/saq/campaigns", json=campaign_body(), headers=SECRETARIAT
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
