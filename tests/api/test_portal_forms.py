"""The result forms in the browser's place (the test client): drafts, submitting with what is
missing, rows added and removed, uploads refused for their content, another unit's result,
corrections beside the fields, resubmit, a large video streamed (every field's bad input shown
beside the field: test_portal_form_fields.py)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Actor, Role
from tests.api.conftest import make_account
from tests.api.published_world import cheap_passwords
from tests.api.test_submission_rules import streaming
from tests.api.test_submissions import PDF, campaign_2024
from tests.api.test_upload_memory import MB, peak_rss, reset_peak_rss
from tests.support import Clock, beijing

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ICBC = "91100000100003962T"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
EN = {"accept-language": "en"}

pytestmark = pytest.mark.tenants("saq")


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
        return int(ledger.get_submission(uuid.UUID(submission_id)).version)


async def open_campaign(client: Client, programme: str) -> dict[str, Any]:
    """saq's 2024 campaign of the programme, opened by its secretariat over the API (a bearer
    session: the client keeps no cookie of it)."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", Role.SECRETARIAT)
    opened = await client.post(f"{SAQ}/session", json={"login": login, "password": password})
    bearer = {"Authorization": f"Bearer {opened.json()['token']}"}
    client.cookies.clear()
    campaign = await client.post(f"{SAQ}/campaigns", json=campaign_2024(programme), headers=bearer)
    assert campaign.status_code == 201, campaign.text
    return dict(campaign.json())


async def desk(anonymous: Client, clock: Clock, programme: str = "qc_group") -> Desk:
    campaign = await open_campaign(anonymous, programme)
    clock.now = beijing(2024, 2, 1, 10, 0)
    token = await signed_in(anonymous, Role.APPLICANT_UNIT, ICBC)
    return Desk(anonymous, campaign, token)


def beside(page: str, field: str) -> str:
    """The problem shown beside a field (its element id: `f-` and the field)."""
    name = "e-f-" + re.sub(r"\W+", "-", field).strip("-")
    found = re.search(rf'id="{name}">([^<]+)<', page)
    assert found is not None, f"nothing beside {field}"
    return html.unescape(found.group(1))


async def upload(d: Desk, submission_id: str, kind: str, content: bytes, name: str) -> Any:
    return await d.client.post(
        f"/saq/applicant/submissions/{submission_id}/attachments/{kind}",
        data={"csrf_token": d.token},
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )


async def test_a_draft_saves_incomplete_and_submit_shows_what_is_missing_beside_each_field(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft({"recommending_unit": "pudong", "group_name": "柜面QC小组"})
    shown = await d.client.get(f"/saq/applicant/submissions/{submission_id}")
    assert shown.status_code == 200 and 'value="柜面QC小组"' in shown.text
    assert "提交前还需完成" in shown.text and "请上传盖章申报表" in shown.text
    before = d.version(submission_id)
    fields = {"recommending_unit": "pudong", "group_name": "柜面QC小组", "action": "submit"}
    refused = await d.post(submission_id, fields)
    assert refused.status_code == 422
    assert beside(refused.text, "topic_name") == "提交前须填写"
    assert beside(refused.text, "topic_type") == "请选择课题类型"
    assert beside(refused.text, "members") == "请填写小组成员名单"
    assert "至少 800 字" in beside(refused.text, "intro")
    assert "须接受承诺" in beside(refused.text, "commitments[2]")
    assert beside(refused.text, "attachments.report") == "请上传成果报告"
    english = await d.post(submission_id, fields, **EN)
    assert beside(english.text, "topic_name") == "Required before submitting"
    assert beside(english.text, "commitments[2]") == "This commitment must be accepted"
    assert d.version(submission_id) == before  # nothing changed, nothing submitted

    for kind in ("application_form", "report", "evidence"):
        done = await upload(d, submission_id, kind, PDF + kind.encode(), f"{kind}.pdf")
        assert done.status_code == 303, done.text
    submitted = await d.post(submission_id, qc_fields(action="submit"))
    assert submitted.status_code == 303, submitted.text
    page = await d.client.get(submitted.headers["location"])
    serial = (
        anonymous.app.state.platform.tenants["saq"]
        .ledger.get_submission(uuid.UUID(submission_id))
        .serial
    )
    assert serial and f"<strong>{serial}</strong>" in page.text
    assert "disabled" in page.text  # submitted: the form is read only


async def test_rows_are_added_and_removed_without_javascript_and_nothing_is_stored(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields(members=["王芳"]))
    before = d.version(submission_id)
    added = await d.post(submission_id, qc_fields(members=["王芳", "李强"], action="add_row"))
    assert added.status_code == 200
    assert len(re.findall(r'name="members"', added.text)) == 3 + 1  # three rows and the template
    removed = await d.post(
        submission_id, qc_fields(members=["王芳", "李强", "张伟"], action="remove_row:1")
    )
    assert 'value="李强"' not in removed.text and 'value="张伟"' in removed.text
    assert d.version(submission_id) == before


async def test_an_upload_is_refused_for_its_content_beside_its_file_input(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields())
    before = d.version(submission_id)
    refused = await upload(d, submission_id, "report", b"MZ\x90\x00 not a pdf" * 50, "报告.pdf")
    assert refused.status_code == 422
    assert (
        beside(refused.text, "attachments.report") == "文件内容不是允许的格式（PDF），与文件名无关"
    )
    streamed = await d.client.post(
        f"/saq/applicant/submissions/{submission_id}/attachments/report",
        params={"name": "报告.pdf"},
        content=b"MZ\x90\x00 not a pdf" * 50,
        headers={"X-CSRF-Token": d.token, "content-type": "application/octet-stream", **EN},
    )
    assert streamed.status_code == 422
    assert beside(streamed.text, "attachments.report") == (
        "The file's content is not an allowed format (PDF), whatever its name"
    )
    empty = await upload(d, submission_id, "report", b"", "")
    assert empty.status_code in (400, 422)
    assert d.version(submission_id) == before

    first = await upload(d, submission_id, "report", PDF + b"one", "报告一.pdf")
    assert first.status_code == 303
    shown = await d.client.get(f"/saq/applicant/submissions/{submission_id}")
    assert "报告一.pdf" in shown.text and 'name="replace"' in shown.text
    old = re.search(r'name="replace" value="([0-9a-f]{64})"', shown.text)
    assert old is not None
    replaced = await d.client.post(
        f"/saq/applicant/submissions/{submission_id}/attachments/report",
        data={"csrf_token": d.token, "replace": old.group(1)},
        files={"file": ("报告二.pdf", PDF + b"two", "application/pdf")},
        follow_redirects=False,
    )
    assert replaced.status_code == 303
    shown = await d.client.get(f"/saq/applicant/submissions/{submission_id}")
    assert "报告二.pdf" in shown.text and "报告一.pdf" not in shown.text
    link = re.search(
        r'href="(/api/v1/tenants/saq/submissions/[^"]+/attachments/[0-9a-f]{64})"', shown.text
    )
    assert link is not None
    downloaded = await d.client.get(link.group(1))
    assert downloaded.status_code == 200 and downloaded.content == PDF + b"two"
    sha = link.group(1).rsplit("/", 1)[1]
    gone = await d.client.post(
        f"/saq/applicant/submissions/{submission_id}/attachments/{sha}/remove",
        data={"csrf_token": d.token},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    shown = await d.client.get(f"/saq/applicant/submissions/{submission_id}")
    assert "报告二.pdf" not in shown.text


async def test_another_units_result_is_a_404_page(anonymous: Client, clock: Clock) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields())
    anonymous.cookies.clear()
    other = await signed_in(anonymous, Role.APPLICANT_UNIT, "91310000132260250X")
    page = await anonymous.get(f"/saq/applicant/submissions/{submission_id}")
    assert page.status_code == 404 and "<html" in page.text
    changed = await anonymous.post(
        f"/saq/applicant/submissions/{submission_id}",
        data={**qc_fields(group_name="改"), "csrf_token": other},
    )
    assert changed.status_code == 404
    assert d.version(submission_id) == 1 or d.version(submission_id) >= 1


async def test_a_returned_result_shows_the_items_beside_the_fields_and_is_resubmitted(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields())
    for kind in ("application_form", "report", "evidence"):
        assert (
            await upload(d, submission_id, kind, PDF + kind.encode(), "f.pdf")
        ).status_code == 303
    assert (await d.post(submission_id, qc_fields(action="submit"))).status_code == 303
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    ledger.return_submission(
        uuid.UUID(submission_id),
        ["小组人数与成员名单不符，请核对", "成果报告缺少盖章页"],
        Actor("sec-1", Role.SECRETARIAT),
    )
    page = await d.client.get(f"/saq/applicant/submissions/{submission_id}")
    assert re.search(r'id="c-f-group_size">.*小组人数与成员名单不符', page.text)
    assert re.search(r'id="c-f-attachments-report">.*成果报告缺少盖章页', page.text)
    english = await d.client.get(f"/saq/applicant/submissions/{submission_id}", headers=EN)
    assert "Returned by the secretariat" in english.text
    resubmitted = await d.post(submission_id, qc_fields(group_size="7", action="resubmit"))
    assert resubmitted.status_code == 303, resubmitted.text
    assert ledger.get_submission(uuid.UUID(submission_id)).status.value == "submitted"


@pytest.mark.parametrize("backend", ["sqlite"])  # memory is the file store's concern
async def test_a_200_mb_video_streams_through_the_page_with_memory_flat(
    anonymous: Client, clock: Clock
) -> None:
    """The page's upload (the script's path: the file is the body) streams like the API's."""
    d = await desk(anonymous, clock)
    submission_id = await d.draft(qc_fields())

    async def video() -> AsyncIterator[bytes]:
        yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (MB - 12)
        for i in range(199):
            yield bytes([i % 251 + 1]) * MB

    reset_peak_rss()
    before = peak_rss()
    async with streaming(anonymous) as http:
        response = await http.post(
            f"/saq/applicant/submissions/{submission_id}/attachments/video",
            params={"name": "发表视频.mp4"},
            content=video(),
            headers={
                "X-CSRF-Token": d.token,
                "content-type": "application/octet-stream",
                "cookie": "; ".join(f"{k}={v}" for k, v in anonymous.cookies.items()),
            },
        )
    growth = peak_rss() - before
    assert response.status_code == 303, response.text
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    videos = [a for a in ledger.get_submission(uuid.UUID(submission_id)).attachments]
    assert [a.size for a in videos] == [200 * MB]
    assert growth < 64 * MB, f"peak memory grew by {growth / MB:.0f} MB for a 200 MB upload"
