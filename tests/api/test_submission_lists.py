"""Submission lists: filters, stable order and pagination; the direct channel's confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.test_submissions import SAQ, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]


async def test_lists_filter_and_page_in_a_stable_order(client: Client) -> None:
    j = await journey(client)
    ids = []
    for topic_type, unit in [
        ("problem_solving", "pudong"),
        ("innovative", "pudong"),
        ("innovative", "direct"),
    ]:
        submission_id = await j.complete({**qc_result(topic_type), "recommending_unit": unit})
        assert (await j.submit(submission_id)).status_code == 200
        ids.append(submission_id)
    url = f"{SAQ}/campaigns/{j.campaign['id']}/submissions"

    first = (await client.get(url, params={"limit": 2})).json()
    second = (await client.get(url, params={"limit": 2, "after": first["next_after"]})).json()
    innovative = (await client.get(url, params={"topic_type": "innovative"})).json()
    direct = (await client.get(url, params={"recommending_unit": "direct"})).json()
    by_domain = (
        await client.get(url, params={"key_domain": "市场服务", "industry": "金融业"})
    ).json()
    other_domain = (await client.get(url, params={"key_domain": "制造"})).json()

    assert [r["submission_id"] for r in first["items"] + second["items"]] == ids
    assert second["next_after"] is None
    assert [r["serial"] for r in first["items"]] == ["SAQ-2024-QC-0001", "SAQ-2024-QC-0002"]
    assert [r["submission_id"] for r in innovative["items"]] == ids[1:]
    assert [r["submission_id"] for r in direct["items"]] == ids[2:]
    assert len(by_domain["items"]) == 3 and other_domain["items"] == []

    confirmed = await client.post(f"{SAQ}/submissions/{ids[2]}/confirm-direct-channel")
    assert confirmed.json()["direct_channel_confirmed"] is True
    again = await client.post(f"{SAQ}/submissions/{ids[2]}/confirm-direct-channel")
    assert again.status_code == 409
    listed = (await client.get(url, params={"recommending_unit": "direct"})).json()
    assert listed["items"][0]["direct_channel_confirmed"] is True
