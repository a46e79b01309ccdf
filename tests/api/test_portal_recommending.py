"""The recommending unit's channel over the test client: what was filed under the unit with its
filters and its files opened inline; the 推荐表's commands as plain form posts, each refusal
beside its field with the input kept and nothing stored; filed, read-only; and a 404 page on
every page of the unit for another unit and for an applicant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_submissions import ICBC, SAQ, Journey, campaign_2024, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
REVIEWER = {
    "reviewer.name": "周敏",
    "reviewer.work_unit": "上海电气集团股份有限公司",
    "reviewer.certificate_kind": "",
    "reviewer.certificate_number": "CAQ-QC-2019-0312",
    "reviewer.mobile": "13601234567",
}
SAIC = "91310000132260250X"
GOOD_EVALUATION = "问题分析透彻，对策有效；数据图表可再规范。"


async def page_session(client: Client, role: Role, scope: str) -> str:
    """An account signed in through the sign-in page (cookie); its CSRF token."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    found = TOKEN.search((await client.get("/saq/account")).text)
    assert found is not None
    return found.group(1)


async def filed_world(client: Client) -> tuple[Journey, list[str], str]:
    """Through the API: three results filed under 浦东新区 (two topic types), one under 徐汇区."""
    secretariat = await sign_in(client, "saq", Role.SECRETARIAT)
    opened = await client.post(
        f"{SAQ}/campaigns",
        json=campaign_2024(recommending_unit_quota=8, recommendations_per_applicant_max=2),
        headers=secretariat,
    )
    assert opened.status_code == 201, opened.text
    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, ICBC)
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "pudong")
    j = Journey(client, opened.json(), applicant, unit)
    ids = []
    for topic, kind in (
        ("降低柜面业务差错率", "problem_solving"),
        ("缩短客户等候时间", "innovative"),
        ("提高一次办结率", "problem_solving"),
    ):
        submission_id = await j.complete(qc_result(kind, topic_name=topic))
        assert (await j.submit(submission_id)).status_code == 200
        ids.append(submission_id)
    other = await sign_in(client, "saq", Role.APPLICANT_UNIT, SAIC)
    k = Journey(client, opened.json(), other, unit)
    elsewhere = await k.complete(
        {**qc_result(topic_name="徐汇的课题"), "recommending_unit": "xuhui"}
    )
    assert (await k.submit(elsewhere)).status_code == 200, (await k.submit(elsewhere)).text
    return j, ids, elsewhere


def beside(text: str, key: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(key)}-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


async def test_the_unit_filters_what_was_filed_under_it_and_opens_its_files(
    anonymous: Client,
) -> None:
    j, (first, second, _), elsewhere = await filed_world(anonymous)
    await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    home = await anonymous.get("/saq/recommending/")
    assert home.status_code == 200 and "推荐通道" in home.text
    base = f"/saq/recommending/pudong/campaigns/{j.campaign['id']}"
    listed = await anonymous.get(f"{base}/results")
    assert listed.status_code == 200
    assert listed.text.count('data-submission="') == 3 and elsewhere not in listed.text
    assert "降低柜面业务差错率" in listed.text and "尚未决定" in listed.text
    innovative = await anonymous.get(f"{base}/results", params={"topic_type": "innovative"})
    assert innovative.text.count('data-submission="') == 1 and second in innovative.text
    by_applicant = await anonymous.get(
        f"{base}/results", params={"credit_code": ICBC, "status": "submitted"}
    )
    assert by_applicant.text.count('data-submission="') == 3
    nobody = await anonymous.get(f"{base}/results", params={"credit_code": SAIC})
    assert "没有符合条件的成果" in nobody.text

    result = await anonymous.get(f"{base}/results/{first}")
    assert result.status_code == 200 and "report.pdf" in result.text
    links = re.findall(r'href="([^"]+/files/[0-9a-f]+)"', result.text)
    assert len(links) == 3
    opened = await anonymous.get(links[0])
    assert opened.status_code == 200
    assert opened.headers["content-disposition"].startswith("inline")
    assert opened.headers["content-type"].startswith("application/pdf")
    assert opened.content.startswith(b"%PDF")
