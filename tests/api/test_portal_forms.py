"""The result forms in the browser's place (the test client): every field's bad input shown
beside the field in zh-CN and en with the record's version unchanged; drafts, submitting with
what is missing, uploads refused for their content, corrections beside the fields, resubmit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import make_account
from tests.api.published_world import cheap_passwords
from tests.api.test_submissions import campaign_2024
from tests.support import Clock, beijing

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ICBC = "91100000100003962T"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
EN = {"accept-language": "en"}


async def signed_in(client: Client, role: Role, scope: str | None = None) -> str:
    """Sign the client in through the sign-in page; the session's CSRF token."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        page = await client.get("/saq/sign-in")
        token = TOKEN.search(page.text)
        assert token is not None
        done = await client.post(
            "/saq/sign-in",
            data={"login": login, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
    assert done.status_code == 303, done.text
    home = await client.get("/saq/")
    found = TOKEN.search(home.text)
    assert found is not None
    return found.group(1)


def qc_fields(**changes: str | list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "recommending_unit": "pudong",
        "group_name": "柜面服务质量改进QC小组",
        "group_size": "6",
        "topic_name": "降低柜面业务差错率",
        "industry": "金融业",
        "topic_type": "problem_solving",
        "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
        "intro": "小组围绕柜面业务差错开展活动。" * 70,
        **{f"commitments[{i}]": "1" for i in range(4)},
    }
    fields.update(changes)
    return fields


def team_fields(**changes: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "recommending_unit": "pudong",
        "team_name": "营业部柜面服务班",
        "team_size": "12",
        "leader": "王芳",
        "figures.work_completion_pct": "100",
        "figures.quality_pass_pct": "99.5",
        "figures.nonconformity_pct": "0.5",
        "figures.first_pass_yield_pct": "98.7",
        "figures.accidents": "0",
        "figures.complaints": "1",
        "figures.training_people": "12",
        "figures.training_hours": "480",
        "figures.participation_pct": "100",
        "figures.quality_cost_10k": "12.5",
        "figures.creation_coverage_pct": "85",
        **{f"sections[{i}]": f"第{i + 1}部分：班组情况介绍。" * 20 for i in range(6)},
        "no_accident_three_years": "1",
        "basic_formal_unit": "1",
    }
    fields.update(changes)
    return fields


class Desk:
    """An applicant unit at its result form: the campaign, the session's token."""

    def __init__(self, client: Client, campaign: dict[str, Any], token: str) -> None:
        self.client, self.campaign, self.token = client, campaign, token

    async def draft(self, fields: dict[str, Any]) -> str:
        response = await self.client.post(
            f"/saq/applicant/campaigns/{self.campaign['id']}/submissions/new",
            data={
                **fields,
                "unit_name": "中国工商银行股份有限公司上海市分行",
                "csrf_token": self.token,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        found = re.search(r"/submissions/([0-9a-f-]{36})", response.headers["location"])
        assert found is not None
        return found.group(1)

    async def post(self, submission_id: str, fields: dict[str, Any], **headers: str) -> Any:
        return await self.client.post(
            f"/saq/applicant/submissions/{submission_id}",
            data={**fields, "csrf_token": self.token},
            headers=headers,
            follow_redirects=False,
        )

    def version(self, submission_id: str) -> int:
        ledger = self.client.app.state.platform.tenants["saq"].ledger
        return int(ledger.get_submission(__import__("uuid").UUID(submission_id)).version)


async def desk(anonymous: Client, clock: Clock, programme: str = "qc_group") -> Desk:
    with cheap_passwords(anonymous, "saq"):
        login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    opened = await anonymous.post(f"{SAQ}/session", json={"login": login, "password": password})
    bearer = {"Authorization": f"Bearer {opened.json()['token']}"}
    anonymous.cookies.clear()
    campaign = await anonymous.post(
        f"{SAQ}/campaigns", json=campaign_2024(programme), headers=bearer
    )
    assert campaign.status_code == 201, campaign.text
    clock.now = beijing(2024, 2, 1, 10, 0)
    token = await signed_in(anonymous, Role.APPLICANT_UNIT, ICBC)
    return Desk(anonymous, campaign.json(), token)


def beside(page: str, field: str) -> str:
    """The problem shown beside a field (its element id: `f-` and the field)."""
    name = "e-f-" + re.sub(r"\W+", "-", field).strip("-")
    found = re.search(rf'id="{name}">([^<]+)<', page)
    assert found is not None, f"nothing beside {field}"
    return found.group(1)


QC_BAD = [
    ("group_name", {"group_name": "组" * 201}, "不得超过 200 字", "At most 200 characters"),
    ("group_size", {"group_size": "六"}, "应为整数", "A whole number"),
    ("group_size", {"group_size": "1001"}, "人数超出允许范围", None),
    ("topic_name", {"topic_name": "题" * 201}, "不得超过 200 字", "At most 200 characters"),
    ("industry", {"industry": "业" * 101}, "不得超过 100 字", "At most 100 characters"),
    ("topic_type", {"topic_type": "other"}, "请从列表中选择", "Choose one of the list"),
    (
        "members",
        {"members": [f"成员{i}" for i in range(11)]},
        "小组成员名单至多 10 人",
        "At most 10 members",
    ),
    ("members[0]", {"members": ["名" * 201]}, "不得超过 200 字", "At most 200 characters"),
    ("intro", {"intro": "字" * 1201}, "简介不得超过 1200 字", "At most 1200 characters"),
]


@pytest.mark.parametrize(
    ("field", "change", "zh", "en"), QC_BAD, ids=[f"{c[0]}-{i}" for i, c in enumerate(QC_BAD)]
)
async def test_each_bad_field_of_the_qc_form_is_shown_beside_it_and_nothing_is_stored(
    anonymous: Client, clock: Clock, field: str, change: dict[str, Any], zh: str, en: str | None
) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields())
    before = d.version(submission_id)
    refused = await d.post(submission_id, qc_fields(**change, action="save"))
    assert refused.status_code == 422, refused.text
    assert zh in beside(refused.text, field)
    english = await d.post(submission_id, qc_fields(**change, action="save"), **EN)
    assert english.status_code == 422
    if en is not None:
        assert en in beside(english.text, field)
    assert d.version(submission_id) == before
