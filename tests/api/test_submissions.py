"""The applicant's journey over HTTP for a QC result and a team, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ICBC = "91100000100003962T"
PDF = b"%PDF-1.4\n" + b"%" * 2000 + b"\n%%EOF\n"


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def campaign_2024(programme: str = "qc_group", **rules: Any) -> dict[str, Any]:
    window = {"opens_at": "2024-01-01T00:00:00+08:00", "closes_at": "2024-03-01T22:00:00+08:00"}
    body: dict[str, Any] = {
        "programme": programme,
        "year": 2024,
        "title": "2024年上海市质量管理小组活动"
        if programme == "qc_group"
        else "2024年上海市“质量信得过班组”建设活动",
        "contact": {"person": "杨瑾", "phone": "021-52588838"},
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "timeline": {"registration": window, "submission": window, "recommendation": window},
    }
    if rules:
        body["rules"] = rules
    return body


def qc_result(topic_type: str = "problem_solving", **changes: Any) -> dict[str, Any]:
    form = {
        "group_name": "柜面服务质量改进QC小组",
        "group_size": 6,
        "topic_name": "降低柜面业务差错率",
        "industry": "金融业",
        "topic_type": topic_type,
        "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
        "intro": "小组围绕柜面业务差错开展活动。" * 70,
        "commitments": [True, True, True, True],
        **changes,
    }
    return {"recommending_unit": "pudong", "qc_result": form}


def team(**changes: Any) -> dict[str, Any]:
    form = {
        "team_name": "营业部柜面服务班",
        "team_size": 12,
        "leader": "王芳",
        "figures": {
            "work_completion_pct": "100",
            "quality_pass_pct": "99.5",
            "nonconformity_pct": "0.5",
            "first_pass_yield_pct": "98.7",
            "accidents": 0,
            "complaints": 1,
            "training_people": 12,
            "training_hours": 480,
            "participation_pct": "100",
            "quality_cost_10k": "12.5",
            "creation_coverage_pct": "85",
        },
        "sections": [f"第{i}部分：班组情况介绍。" * 20 for i in range(1, 7)],
        "no_accident_three_years": True,
        "basic_formal_unit": True,
        **changes,
    }
    return {"recommending_unit": "pudong", "team": form}


APPLICANT_BLOCK = {
    "unit_name": "中国工商银行股份有限公司上海市分行",
    "key_domain": "市场服务",
    "key_industries": ["金融"],
}


class Journey:
    """The people of one campaign: the secretariat (the client), an applicant unit and its
    recommending unit, each with a session."""

    def __init__(
        self,
        client: Client,
        campaign: dict[str, Any],
        applicant: dict[str, str],
        unit: dict[str, str],
    ) -> None:
        self.client, self.campaign, self.applicant, self.unit = client, campaign, applicant, unit

    async def draft(self, body: dict[str, Any], key: str | None = None) -> Any:
        headers = {**self.applicant, **({"Idempotency-Key": key} if key else {})}
        return await self.client.post(
            f"{SAQ}/campaigns/{self.campaign['id']}/submissions",
            json={**body, "applicant": APPLICANT_BLOCK},
            headers=headers,
        )

    async def upload(self, submission_id: str, kind: str, content: bytes, name: str) -> Any:
        return await self.client.post(
            f"{SAQ}/submissions/{submission_id}/attachments/{kind}",
            params={"name": name},
            content=content,
            headers={**self.applicant, "content-type": "application/octet-stream"},
        )

    async def complete(self, body: dict[str, Any], key: str | None = None) -> str:
        """A draft with every required attachment; its id."""
        drafted = await self.draft(body, key)
        assert drafted.status_code == 201, drafted.text
        submission_id = str(drafted.json()["id"])
        for kind in ("application_form", "report", "evidence"):
            content = PDF + kind.encode() + submission_id.encode()
            assert (
                await self.upload(submission_id, kind, content, f"{kind}.pdf")
            ).status_code == 201
        return submission_id

    async def submit(self, submission_id: str) -> Any:
        return await self.client.post(
            f"{SAQ}/submissions/{submission_id}/submit", headers=self.applicant
        )


async def journey(client: Client, programme: str = "qc_group", **rules: Any) -> Journey:
    opened = await client.post(f"{SAQ}/campaigns", json=campaign_2024(programme, **rules))
    assert opened.status_code == 201, opened.text
    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, ICBC)
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "pudong")
    return Journey(client, opened.json(), applicant, unit)


async def test_a_qc_result_from_registration_to_resubmission(client: Client, clock: Clock) -> None:
    j = await journey(client)
    registration = {
        "unit_name": "中国工商银行股份有限公司上海市分行",
        "member_unit": True,
        "nature": "国有",
        "key_industries": ["金融"],
        "key_domain": "市场服务",
        "address": "上海市浦东新区银城中路8号",
        "postcode": "200120",
        "managing_department": "运营管理部",
        "promoter": {
            "name": "王芳",
            "department_and_title": "运营管理部 经理",
            "mobile": "13800138000",
            "email": "wangfang@icbc.example.cn",
        },
        "intents": ["参加活动申报问题解决型课题"],
    }
    registered = await client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/registrations", json=registration, headers=j.applicant
    )
    assert registered.status_code == 201, registered.text

    submission_id = await j.complete(qc_result())
    report = PDF + b"report" + submission_id.encode()
    submitted = await j.submit(submission_id)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["serial"] == "SAQ-2024-QC-0001"
    endorsed = await client.post(
        f"{SAQ}/submissions/{submission_id}/endorse",
        json={"self_evaluation": "活动规范，效果显著。", "opinion": "同意推荐。", "score": "88.5"},
        headers=j.applicant,
    )
    assert endorsed.json()["endorsement"]["score"] == "88.5"

    mine = (
        await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions", headers=j.applicant)
    ).json()
    for_unit = (
        await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions", headers=j.unit)
    ).json()
    for_secretariat = (
        await client.get(
            f"{SAQ}/campaigns/{j.campaign['id']}/submissions", params={"status": "submitted"}
        )
    ).json()
    assert (
        [r["serial"] for r in mine["items"]]
        == [r["serial"] for r in for_unit["items"]]
        == ["SAQ-2024-QC-0001"]
    )
    assert for_secretariat["items"][0]["endorsed"] is True

    sha = hashlib.sha256(report).hexdigest()
    downloaded = await client.get(
        f"{SAQ}/submissions/{submission_id}/attachments/{sha}", headers=j.unit
    )
    assert downloaded.content == report
    assert "report.pdf" in downloaded.headers["content-disposition"]

    returned = await client.post(
        f"{SAQ}/submissions/{submission_id}/return", json={"items": ["成员名单与申报表不一致"]}
    )
    assert returned.json()["status"] == "returned"
    edited = await client.put(
        f"{SAQ}/submissions/{submission_id}", json=qc_result(group_size=7), headers=j.applicant
    )
    assert edited.status_code == 200, edited.text
    resubmitted = await client.post(
        f"{SAQ}/submissions/{submission_id}/resubmit", headers=j.applicant
    )
    assert (resubmitted.json()["status"], resubmitted.json()["serial"]) == (
        "submitted",
        "SAQ-2024-QC-0001",
    )


async def test_a_team_is_drafted_submitted_and_withdrawn(client: Client) -> None:
    j = await journey(client, "team")
    drafted = await j.draft(team())
    submission_id = drafted.json()["id"]
    for kind in ("application_form", "report"):
        assert (
            await j.upload(submission_id, kind, PDF + kind.encode(), f"{kind}.pdf")
        ).status_code == 201
    assert (
        (await j.upload(submission_id, "evidence", xlsx(), "台账.xlsx"))
        .json()["attachments"][-1]["content_type"]
        .endswith("sheet")
    )

    submitted = await j.submit(submission_id)
    assert submitted.json()["serial"] == "SAQ-2024-TEAM-0001", submitted.text
    withdrawn = await client.post(
        f"{SAQ}/submissions/{submission_id}/withdraw",
        json={"reason": "班组调整"},
        headers=j.applicant,
    )
    assert withdrawn.json()["status"] == "withdrawn"
    listed = (
        await client.get(
            f"{SAQ}/campaigns/{j.campaign['id']}/submissions", params={"status": "withdrawn"}
        )
    ).json()
    assert [r["submission_id"] for r in listed["items"]] == [submission_id]


async def test_a_repeated_idempotency_key_drafts_once(client: Client) -> None:
    j = await journey(client)
    first, again = await j.draft(qc_result(), "draft-1"), await j.draft(qc_result(), "draft-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize(
    ("moment", "status"),
    [((2024, 3, 1, 21, 59, 59), 200), ((2024, 3, 1, 22, 0, 0), 409)],
    ids=["21:59:59", "22:00:00"],
)
async def test_submitting_at_the_closing_minute(
    client: Client, clock: Clock, moment: tuple[int, ...], status: int
) -> None:
    j = await journey(client)
    submission_id = await j.complete(qc_result())
    clock.now = beijing(*moment)
    j.applicant = await sign_in(
        client, "saq", Role.APPLICANT_UNIT, ICBC
    )  # months later: a new session
    response = await j.submit(submission_id)
    assert response.status_code == status
    if status == 409:
        assert response.json()["errors"][0]["rule"] == "window_closed"
        shown = await client.get(f"{SAQ}/submissions/{submission_id}", headers=j.applicant)
        assert (shown.json()["status"], shown.json()["serial"]) == ("draft", None)


async def test_two_concurrent_submits_of_one_draft(client: Client) -> None:
    j = await journey(client)
    submission_id = await j.complete(qc_result())
    first, second = await asyncio.gather(j.submit(submission_id), j.submit(submission_id))
    assert sorted((first.status_code, second.status_code)) == [200, 409]
    listed = (await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions")).json()
    assert [r["serial"] for r in listed["items"]] == ["SAQ-2024-QC-0001"]


async def test_a_recommending_unit_sees_only_what_was_filed_under_it(client: Client) -> None:
    j = await journey(client)
    submission_id = await j.complete(qc_result())
    other_unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "xuhui")
    assert (
        await client.get(f"{SAQ}/submissions/{submission_id}", headers=j.unit)
    ).status_code == 404  # a draft
    await j.submit(submission_id)
    assert (
        await client.get(f"{SAQ}/submissions/{submission_id}", headers=j.unit)
    ).status_code == 200
    assert (
        await client.get(f"{SAQ}/submissions/{submission_id}", headers=other_unit)
    ).status_code == 404
    listed = (
        await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions", headers=other_unit)
    ).json()
    assert listed["items"] == []
    other_applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, "91310000132260250X")
    assert (
        await client.get(f"{SAQ}/submissions/{submission_id}", headers=other_applicant)
    ).status_code == 404
