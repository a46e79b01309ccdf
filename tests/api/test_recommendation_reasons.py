"""Every decision on a recommendation carries its reason: without one it is refused."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.test_recommendations import REVIEWER, filed_submissions, form_url, recommend

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]


@pytest.mark.parametrize(
    ("path", "body", "by_unit"),
    [
        ("not-recommended", {"reason": " "}, True),
        ("return", {"reason": ""}, False),
        ("quota", {"extra": 1, "reason": ""}, False),
        ("invalidate", {"reason": "  "}, False),
    ],
    ids=["not recommended", "return", "extra quota", "invalid"],
)
async def test_a_decision_without_a_reason_is_refused(
    client: Client, path: str, body: dict[str, Any], by_unit: bool
) -> None:
    j, (first, second) = await filed_submissions(client)
    url = form_url(j)
    await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    await recommend(client, j, first)
    await client.post(
        f"{url}/recommendation/declaration",
        json={"filled_by": "陈静", "phone": "021-58881234"},
        headers=j.unit,
    )
    if not by_unit:  # the secretariat decides on a filed form; the unit before filing
        await client.post(f"{url}/recommendation/file", headers=j.unit)
    before = (await client.get(f"{url}/recommendation")).json()["version"]
    if path == "not-recommended":
        body = {**body, "submission_id": second}
    response = await client.post(
        f"{url}/recommendation/{path}", json=body, headers=j.unit if by_unit else {}
    )
    assert response.status_code in (409, 422), response.text
    if response.status_code == 422:
        assert ("reason", "required") in [
            (e["field"], e["rule"]) for e in response.json()["errors"]
        ]
    assert (await client.get(f"{url}/recommendation")).json()["version"] == before
