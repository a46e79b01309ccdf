"""A recommending unit's journey over HTTP on SQLite and PostgreSQL: rank and recommend, reviewers,
declaration, filing; statistics table and work summary; exports read back with openpyxl.

The refused statistics and recommendation entries change nothing, so those cases share one app and
one situation (two results filed, a reviewer on the unit's roster) per module on each backend
(`module_anonymous`, their tests marked SHARED); the other tests start an app of their own."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.test_submissions import SAQ, Journey, journey, qc_result
from tests.support import beijing

pytestmark = pytest.mark.tenants("saq")
SHARED = pytest.mark.asyncio(loop_scope="module")
"""The mark of a test on the module's shared app (`module_anonymous`): it runs in its loop."""

Client = AsyncTestClient[Any]
REVIEWER = {
    "name": "周敏",
    "work_unit": "上海电气集团股份有限公司",
    "certificate_kind": "中国质协QC小组评委",
    "certificate_number": "CAQ-QC-2019-0312",
    "mobile": "13601234567",
}
SAIC = "91310000132260250X"
SUMMARY = (
    "一、基本情况\n"
    + "本区全年组织质量管理小组活动，覆盖企业与班组。" * 80
    + "\n二、推进经验和做法\n"
    + "坚持标准宣贯，开展成果诊断与发表交流。" * 80
    + "\n三、存在问题及改进方向\n"
    + "部分企业参与面不够广，下一步将加强培训与辅导。" * 60
)


def statistics(**changes: Any) -> dict[str, Any]:
    qc = {
        "employees": 12000,
        "registered_all_years": 3500,
        "registered_this_year": 420,
        "participants": 3150,
        "active_groups": 400,
        "groups_with_results": 315,
        "benefit_all_years_10k": "86500.5",
        "benefit_this_year_10k": "4210.75",
        "spending_10k": "120",
        "rewards_10k": "45.5",
        "certified_reviewers": 18,
    }
    qc.update(changes)
    return {
        "enterprises": ["91100000100003962T", SAIC],
        "qc": qc,
        "review_forms": ["发表评审", "资料评审"],
        "meeting": {
            "held": True,
            "date": "2024-04-18",
            "place": "浦东新区质量大厦",
            "entered": 40,
            "presented": 28,
            "attendance": 260,
        },
    }


async def filed_submissions(client: Client, count: int = 2) -> tuple[Journey, list[str]]:
    j = await journey(client)
    ids = []
    for topic_type in ("problem_solving", "innovative")[:count]:
        submission_id = await j.complete(qc_result(topic_type))
        assert (await j.submit(submission_id)).status_code == 200
        ids.append(submission_id)
    return j, ids


def form_url(j: Journey, unit: str = "pudong") -> str:
    return f"{SAQ}/campaigns/{j.campaign['id']}/units/{unit}"


async def recommend(
    client: Client,
    j: Journey,
    submission_id: str,
    score: str = "86",
    reviewer: str = REVIEWER["certificate_number"],
) -> Any:
    return await client.post(
        f"{form_url(j)}/recommendation/entries",
        headers=j.unit,
        json={
            "submission_id": submission_id,
            "score": score,
            "evaluation": "问题分析透彻，对策有效；数据图表可再规范。",
            "reviewer": reviewer,
        },
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def filed(module_anonymous: Client) -> tuple[Journey, list[str]]:
    """On the module's app, signed in as saq's secretariat: two results filed to pudong, whose
    roster lists REVIEWER."""
    client = module_anonymous
    client.headers.update(await sign_in(client, "saq", Role.SECRETARIAT))
    j, ids = await filed_submissions(client)
    listed = await client.post(
        f"{form_url(j)}/recommendation/reviewers", json=REVIEWER, headers=j.unit
    )
    assert listed.status_code == 200, listed.text
    return j, ids


async def test_a_recommending_unit_ranks_recommends_and_files(client: Client) -> None:
    j, (first, second) = await filed_submissions(client)
    url = form_url(j)
    assert (
        await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    ).status_code == 200
    assert (await recommend(client, j, first, "86")).status_code == 200
    assert (await recommend(client, j, second, "91.5")).status_code == 200
    reordered = await client.post(
        f"{url}/recommendation/order", json={"order": [second, first]}, headers=j.unit
    )
    assert [e["submission_id"] for e in reordered.json()["entries"]] == [second, first]
    await client.post(
        f"{url}/recommendation/declaration",
        json={"filled_by": "陈静", "phone": "021-58881234"},
        headers=j.unit,
    )
    filed = await client.post(f"{url}/recommendation/file", headers=j.unit)
    assert filed.json()["status"] == "filed", filed.text

    frozen = await client.delete(f"{url}/recommendation/entries/{first}", headers=j.unit)
    assert frozen.status_code == 409 and frozen.json()["errors"][0]["rule"] == "filed"
    returned = await client.post(f"{url}/recommendation/return", json={"reason": "评价过于简略"})
    assert returned.json()["status"] == "returned"
    assert (
        await client.delete(f"{url}/recommendation/entries/{first}", headers=j.unit)
    ).status_code == 200

    workbook = openpyxl.load_workbook(
        io.BytesIO((await client.get(f"{url}/recommendation.xlsx", headers=j.unit)).content)
    )
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "2024年上海市质量管理小组活动成果推荐表"
    assert rows[1][0] == "推荐单位（单位公章）：浦东新区"
    assert rows[3][:6] == ("排序", "企业名称", "小组名称", "课题类型", "打分", "评委")
    assert rows[4][:6] == (
        1,
        "中国工商银行股份有限公司上海市分行",
        "柜面服务质量改进QC小组",
        "创新型",
        91.5,
        "周敏",
    )
    assert rows[5][1] == "问题分析透彻，对策有效；数据图表可再规范。"
    roster = rows.index(("序号", "姓名", "工作单位", "评委证书编号", "手机", None, None))
    assert rows[roster + 1][:5] == (
        1,
        "周敏",
        "上海电气集团股份有限公司",
        "CAQ-QC-2019-0312",
        "13601234567",
    )
    csv = (await client.get(f"{url}/recommendation.csv", headers=j.unit)).content.decode(
        "utf-8-sig"
    )
    assert "柜面服务质量改进QC小组" in csv and "周敏" in csv


async def test_the_statistics_table_computes_its_rates_and_exports_them(client: Client) -> None:
    j, _ = await filed_submissions(client, 1)
    recorded = await client.put(f"{form_url(j)}/statistics", json=statistics(), headers=j.unit)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["rates"] == {
        "coverage": "26.25",
        "result_rate": "75.00",
        "activity_rate": "95.24",
    }
    assert recorded.json()["enterprise_count"] == 2

    content = (await client.get(f"{form_url(j)}/statistics.xlsx", headers=j.unit)).content
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(workbook["统计表"].iter_rows(values_only=True))
    assert rows[0][0] == "2024年上海市质量管理小组活动成果统计表"
    assert rows[1][0] == "（2023 年 1 月至 2023 年 12 月）"
    assert rows[3][:4] == ("序号", "统计项目", "单位", "数量")
    by_label = {row[1]: row[3] for row in rows[4:19]}
    assert by_label["企业总数（附清单）"] == 2
    assert by_label["职工总数"] == 12000
    assert by_label["本年度 QC 小组普及率 = 参加 QC 小组人数 / 职工总数 × 100%"] == "26.25%"
    assert by_label["本年度 QC 小组成果率 = 取得成果小组数 / QC 小组注册数 × 100%"] == "75.00%"
    assert by_label["本年度 QC 小组活动率 = 能坚持活动小组数 / QC 小组注册数 × 100%"] == "95.24%"
    assert by_label["本年度 QC 小组创可计算的经济效益"] == 4210.75
    assert [row[1] for row in workbook["企业清单"].iter_rows(min_row=2, values_only=True)] == [
        "91100000100003962T",
        SAIC,
    ]


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"participants": 13000}, "figures.participants", "le_employees"),
        ({"active_groups": 500}, "figures.active_groups", "le_registered"),
        ({"groups_with_results": 421}, "figures.groups_with_results", "le_registered"),
        ({"registered_this_year": 4000}, "figures.registered_this_year", "le_all_years"),
        ({"spending_10k": "-1"}, "figures.spending_10k", "non_negative"),
    ],
    ids=["participants", "active", "with results", "this year", "money"],
)
@SHARED
async def test_inconsistent_statistics_are_refused(
    filed: tuple[Journey, list[str]], changes: dict[str, Any], field: str, rule: str
) -> None:
    j, _ = filed
    client = j.client
    response = await client.put(
        f"{form_url(j)}/statistics", json=statistics(**changes), headers=j.unit
    )
    assert response.status_code == 422, response.text
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert (await client.get(f"{form_url(j)}/statistics", headers=j.unit)).status_code == 404


async def test_statistics_enterprises_and_meeting_rules(client: Client) -> None:
    j, _ = await filed_submissions(client, 1)
    body = statistics()
    body["enterprises"] = [SAIC, SAIC, "91310000132260250Y"]
    body["meeting"]["presented"] = 50
    response = await client.put(f"{form_url(j)}/statistics", json=body, headers=j.unit)
    fields = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert {
        ("enterprises", "unique"),
        ("enterprises[2]", "check_character"),
        ("meeting.presented", "coherent"),
    } <= fields


async def test_the_work_summary_needs_its_length_and_sections(client: Client) -> None:
    j, _ = await filed_submissions(client, 1)
    url = f"{form_url(j)}/work-summary"
    short = await client.put(url, json={"text": SUMMARY[:500]}, headers=j.unit)
    no_problems = await client.put(
        url,
        json={
            "text": SUMMARY.replace("三、存在问题及改进方向", "三、其他").replace(
                "部分企业参与面不够广，下一步将加强培训与辅导。", "其他内容补充说明。"
            )
        },
        headers=j.unit,
    )
    written = await client.put(url, json={"text": SUMMARY}, headers=j.unit)
    assert ("text", "min_length") in [(e["field"], e["rule"]) for e in short.json()["errors"]]
    assert ("text", "section_missing") in [
        (e["field"], e["rule"]) for e in no_problems.json()["errors"]
    ]
    assert written.status_code == 200 and written.json()["characters"] >= 3000


RULE_CASES = [
    ("score above the scale", {"score": "101"}, "score", "range"),
    ("evaluation over 300", {"evaluation": "长" * 301}, "evaluation", "max_length"),
    ("reviewer not in the roster", {"reviewer": "NOT-LISTED"}, "reviewer", "not_in_roster"),
]


@pytest.mark.parametrize(
    ("changes", "field", "rule"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
@SHARED
async def test_a_bad_entry_is_refused(
    filed: tuple[Journey, list[str]], changes: dict[str, str], field: str, rule: str
) -> None:
    j, (first, _) = filed
    client = j.client
    body = {
        "submission_id": first,
        "score": "80",
        "evaluation": "好",
        "reviewer": REVIEWER["certificate_number"],
        **changes,
    }
    response = await client.post(f"{form_url(j)}/recommendation/entries", json=body, headers=j.unit)
    assert response.status_code == 422
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert (await client.get(f"{form_url(j)}/recommendation", headers=j.unit)).json()[
        "entries"
    ] == []


async def test_a_unit_quota_and_the_extra_quota_the_secretariat_grants(client: Client) -> None:
    j = await journey(client, recommending_unit_quota=1)
    first, second = (
        await j.complete(qc_result("problem_solving")),
        await j.complete(qc_result("innovative")),
    )
    await j.submit(first)
    await j.submit(second)
    await client.post(f"{form_url(j)}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    assert (await recommend(client, j, first)).status_code == 200
    over = await recommend(client, j, second)
    assert ("submission_id", "quota") in [(e["field"], e["rule"]) for e in over.json()["errors"]]
    granted = await client.post(
        f"{form_url(j)}/recommendation/quota", json={"extra": 1, "reason": "成果数量多，成效突出"}
    )
    assert granted.json()["quota"] == 2
    assert (await recommend(client, j, second)).status_code == 200


async def test_two_results_of_one_applicant_beyond_its_quota(client: Client) -> None:
    j = await journey(client, recommendations_per_applicant_max=1)
    first = await j.complete(qc_result("problem_solving"))
    second = await j.complete(qc_result("innovative"))
    await j.submit(first)
    await j.submit(second)
    await client.post(f"{form_url(j)}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    assert (await recommend(client, j, first)).status_code == 200
    refused = await recommend(client, j, second)
    assert ("submission_id", "quota_per_applicant") in [
        (e["field"], e["rule"]) for e in refused.json()["errors"]
    ]


async def test_roster_certificate_numbers_are_unique(client: Client) -> None:
    j, _ = await filed_submissions(client, 1)
    url = f"{form_url(j)}/recommendation/reviewers"
    await client.post(url, json=REVIEWER, headers=j.unit)
    again = await client.post(url, json={**REVIEWER, "name": "另一位"}, headers=j.unit)
    assert ("reviewer.certificate_number", "unique") in [
        (e["field"], e["rule"]) for e in again.json()["errors"]
    ]


async def test_filing_needs_the_declaration_and_the_window(client: Client, clock: Any) -> None:
    j, (first, _) = await filed_submissions(client)
    await client.post(f"{form_url(j)}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    await recommend(client, j, first)
    undeclared = await client.post(f"{form_url(j)}/recommendation/file", headers=j.unit)
    assert ("declaration", "required") in [
        (e["field"], e["rule"]) for e in undeclared.json()["errors"]
    ]
    declaration = {"filled_by": "陈静", "phone": "021-58881234"}
    await client.post(f"{form_url(j)}/recommendation/declaration", json=declaration, headers=j.unit)
    clock.now = beijing(2024, 3, 1, 22, 0)  # the recommendation window closes at 22:00
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "pudong")  # a new session, later
    late = await client.post(f"{form_url(j)}/recommendation/file", headers=unit)
    assert late.status_code == 409
    assert late.json()["errors"][0]["rule"] == "window_closed"


async def test_a_not_recommended_decision_and_an_invalid_recommendation_are_seen_by_the_applicant(
    client: Client,
) -> None:
    j, (first, second) = await filed_submissions(client)
    url = form_url(j)
    await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    await recommend(client, j, first)
    declined = await client.post(
        f"{url}/recommendation/not-recommended",
        json={"submission_id": second, "reason": "创新点不足"},
        headers=j.unit,
    )
    assert declined.json()["not_recommended"] == {second: "创新点不足"}
    invalid = await client.post(
        f"{url}/recommendation/invalidate", json={"reason": "推荐单位向企业收取费用"}
    )
    assert invalid.json()["status"] == "invalid"
    seen = (await client.get(f"{SAQ}/submissions/{first}", headers=j.applicant)).json()
    declined_seen = (await client.get(f"{SAQ}/submissions/{second}", headers=j.applicant)).json()
    assert (seen["recommendation"], seen["recommendation_reason"]) == (
        "invalid",
        "推荐单位向企业收取费用",
    )
    assert (declined_seen["recommendation"], declined_seen["recommendation_reason"]) == (
        "not_recommended",
        "创新点不足",
    )
    locked = await recommend(client, j, second)
    assert locked.status_code == 409


async def test_a_unit_cannot_see_or_rank_another_units_submission(client: Client) -> None:
    j, (first, _) = await filed_submissions(client)
    xuhui = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "xuhui")
    assert (
        await client.get(f"{form_url(j, 'pudong')}/recommendation", headers=xuhui)
    ).status_code == 404
    ranked = await client.post(
        f"{form_url(j, 'xuhui')}/recommendation/entries",
        headers=xuhui,
        json={"submission_id": first, "score": "80", "evaluation": "好", "reviewer": "X"},
    )
    assert ranked.status_code == 404
    assert (await client.get(f"{SAQ}/submissions/{first}", headers=xuhui)).status_code == 404
