"""The campaign figures' rates, on SQLite and PostgreSQL, on the shapes that once broke them: a
result confirmed through the direct channel is recommended (it was not: 30 instead of 33, a
formal-review pass rate of 106.67 %), a draft given up before it was submitted is not a
withdrawal, a result returned for correction is still filed, and a recommendation form returned
after formal review takes its results out of every later stage. Every rate stays within 100 %."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.review_plan import DEFAULT_CHECKLIST
from tests.api.test_recommendations import REVIEWER, form_url, recommend
from tests.api.test_submissions import SAQ, Journey, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
PASS = {"decision": "pass", "checklist": dict.fromkeys(DEFAULT_CHECKLIST, True)}


async def filed(j: Journey, unit: str = "pudong") -> str:
    submission_id = await j.complete(qc_result() | {"recommending_unit": unit})
    assert (await j.submit(submission_id)).status_code == 200
    return submission_id


async def post(client: Client, url: str, step: str, **kwargs: Any) -> Any:
    response = await client.post(url, **kwargs)
    assert response.status_code == 200, f"{step}: {response.text}"
    return response.json()


async def totals(client: Client, j: Journey) -> dict[str, Any]:
    base = f"{SAQ}/campaigns/{j.campaign['id']}"
    response = await client.get(f"{base}/statistics", params={"by": "recommending_unit"})
    assert response.status_code == 200, response.text
    read = response.json()
    for group in [read["totals"], *read["groups"]]:
        for name, value in group["figures"]["rates"].items():
            assert value is None or Decimal(value) <= 100, (group["key"], name, value)
    return dict(read["totals"]["figures"])


async def test_direct_channel_withdrawals_and_returns_keep_every_rate_within_100(
    client: Client,
) -> None:
    j = await journey(client, results_per_applicant_max=None, distinct_topic_types=False)
    on_form, direct = await filed(j), await filed(j, "direct")
    corrected, withdrawn = await filed(j), await filed(j)
    given_up = await j.complete(qc_result())
    for submission_id, step in ((withdrawn, "withdraw"), (given_up, "give up the draft")):
        await post(
            client,
            f"{SAQ}/submissions/{submission_id}/withdraw",
            step,
            json={"reason": "材料需完善"},
            headers=j.applicant,
        )
    await post(
        client, f"{SAQ}/submissions/{corrected}/return", "return", json={"items": ["补充数据"]}
    )
    url = form_url(j)
    await post(client, f"{url}/recommendation/reviewers", "roster", json=REVIEWER, headers=j.unit)
    assert (await recommend(client, j, on_form)).status_code == 200
    declaration = {"filled_by": "陈静", "phone": "021-58881234"}
    await post(
        client, f"{url}/recommendation/declaration", "declare", json=declaration, headers=j.unit
    )
    await post(client, f"{url}/recommendation/file", "file", headers=j.unit)
    await post(client, f"{SAQ}/submissions/{direct}/confirm-direct-channel", "direct channel")
    for submission_id in (on_form, direct):
        await post(client, f"{SAQ}/submissions/{submission_id}/formal-review", "pass", json=PASS)

    figures = await totals(client, j)
    assert figures["submissions"] == 3  # on the form, direct, returned for correction
    assert figures["withdrawn"] == 1  # the draft given up is not a withdrawal
    assert figures["recommended"] == 2  # the direct channel's counts
    assert figures["formal_passed"] == 2
    assert figures["rates"]["recommendation_rate"] == "66.67"
    assert figures["rates"]["formal_pass_rate"] == "100.00"

    await post(
        client, f"{url}/recommendation/return", "return the form", json={"reason": "评价过简"}
    )
    figures = await totals(client, j)
    assert (figures["recommended"], figures["formal_passed"]) == (1, 1)
    assert figures["rates"]["formal_pass_rate"] == "100.00"
