"""The least number of results per applicant unit (`results_per_applicant_min`, issue 23): it
cannot hold at each submission, so it is read when the submission window closes. The campaign
lists the units below it, and a formal-review pass is refused for them when the campaign makes
the rule blocking; otherwise it is only shown. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.review_plan import DEFAULT_CHECKLIST
from tests.api.test_portal_review import page_session
from tests.api.test_recommendations import REVIEWER, form_url, recommend
from tests.api.test_submissions import ICBC, SAQ, Journey, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
CHECKLIST = dict.fromkeys(DEFAULT_CHECKLIST, True)


async def one_result_recommended(client: Client, **rules: Any) -> tuple[Journey, str]:
    """A unit filed one result of a campaign asking for at least two; its recommending unit
    recommended it and filed its form."""
    j = await journey(client, results_per_applicant_min=2, **rules)
    submission_id = await j.complete(qc_result())
    assert (await j.submit(submission_id)).status_code == 200
    url = form_url(j)
    added = await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    assert added.status_code == 200, added.text
    assert (await recommend(client, j, submission_id)).status_code == 200
    declared = await client.post(
        f"{url}/recommendation/declaration",
        json={"filled_by": "陈静", "phone": "021-58881234"},
        headers=j.unit,
    )
    assert declared.status_code == 200, declared.text
    filed = await client.post(f"{url}/recommendation/file", headers=j.unit)
    assert filed.status_code == 200, filed.text
    return j, submission_id


async def review(client: Client, submission_id: str) -> Any:
    return await client.post(
        f"{SAQ}/submissions/{submission_id}/formal-review",
        json={"decision": "pass", "checklist": CHECKLIST},
    )


async def test_a_blocking_minimum_refuses_the_pass_of_a_unit_below_it(client: Client) -> None:
    j, submission_id = await one_result_recommended(client, results_per_applicant_min_blocking=True)
    ledger = client.app.state.platform.tenants["saq"].ledger
    (short,) = ledger.below_minimum(UUID(j.campaign["id"]))
    assert (short.credit_code, short.results, short.minimum, short.blocking) == (ICBC, 1, 2, True)

    refused = await review(client, submission_id)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["errors"]
    assert (problem["field"], problem["rule"]) == ("results_per_applicant_min", "below_minimum")
    assert "少于本活动要求的至少 2 项" in problem["message"]
    assert ledger.get_submission(UUID(submission_id)).formal_review is None  # nothing stored

    # Returning it for correction is still possible: only the pass needs the minimum.
    second = await j.complete(qc_result("innovative"))
    assert (await j.submit(second)).status_code == 200
    assert ledger.below_minimum(UUID(j.campaign["id"])) == []
    assert ledger.results_count(UUID(j.campaign["id"]), ICBC).met
    passed = await review(client, submission_id)
    assert passed.status_code == 200, passed.text


async def test_a_minimum_that_is_not_blocking_is_shown_and_the_pass_goes_through(
    client: Client,
) -> None:
    j, submission_id = await one_result_recommended(client)
    ledger = client.app.state.platform.tenants["saq"].ledger
    count = ledger.results_count(UUID(j.campaign["id"]), ICBC)
    assert (count.results, count.minimum, count.met, count.blocking) == (1, 2, False, False)
    assert count.item() == "申报单位成果数量：已申报 1 项，本活动要求至少 2 项"
    passed = await review(client, submission_id)
    assert passed.status_code == 200, passed.text
    assert j.campaign["rules"]["results_per_applicant_min_blocking"] is False


async def test_a_withdrawn_result_no_longer_counts(client: Client) -> None:
    j = await journey(client, results_per_applicant_min=2)
    first = await j.complete(qc_result())
    second = await j.complete(qc_result("innovative"))
    for submission_id in (first, second):
        assert (await j.submit(submission_id)).status_code == 200
    ledger = client.app.state.platform.tenants["saq"].ledger
    assert ledger.below_minimum(UUID(j.campaign["id"])) == []
    withdrawn = await client.post(
        f"{SAQ}/submissions/{second}/withdraw", json={"reason": "重复申报"}, headers=j.applicant
    )
    assert withdrawn.status_code == 200, withdrawn.text
    (short,) = ledger.below_minimum(UUID(j.campaign["id"]))
    assert short.results == 1


async def test_formal_review_shows_the_item_and_refuses_the_pass_on_the_page(
    client: Client,
) -> None:
    j, submission_id = await one_result_recommended(client, results_per_applicant_min_blocking=True)
    csrf = await page_session(client)
    url = f"/saq/review/{j.campaign['id']}/formal/{submission_id}"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    assert "申报单位成果数量：已申报 1 项，本活动要求至少 2 项" in page.text
    assert "不足，本活动规定不足时不能通过" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None

    refused = await client.post(
        url,
        data={
            "csrf_token": csrf,
            "decision": "pass",
            "met": list(DEFAULT_CHECKLIST),
            "version": version.group(1),
        },
    )
    assert refused.status_code == 422, refused.text
    assert "少于本活动要求的至少 2 项" in refused.text
    ledger = client.app.state.platform.tenants["saq"].ledger
    assert ledger.get_submission(UUID(submission_id)).formal_review is None  # nothing stored
