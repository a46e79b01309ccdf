"""The secretariat's review pages over the test client: formal review (the queue and its
progress, a result's files opened inline beside the checklist, pass / return / reject with each
refusal beside its field and nothing stored, next in queue, several passed at once), the review
plan editor, and the expert pool (enrol, conflicts, import from .xlsx). Other roles get no page."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import pytest
from openpyxl import load_workbook

from aggregates.actor import Role
from tenants.settings import Settings
from tests.api.conftest import make_account
from tests.api.review_world import Client, World, build
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")
CHECKLIST = ("盖章申报表齐全", "成果报告齐全", "成果为近两年内取得", "推荐单位评审组有持证评委")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, session_hours=24 * 365 * 4)


async def page_session(
    client: Client, role: Role = Role.SECRETARIAT, scope: str | None = None
) -> str:
    """The client signed in through the sign-in page as a new account of `role` (cookie only);
    its CSRF token."""
    client.headers.pop("Authorization", None)
    client.cookies.clear()
    login, password = make_account(client, "saq", role, scope)
    signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    home = await client.get("/saq/account")
    found = TOKEN.search(home.text)
    assert found is not None
    return found.group(1)


async def world_in_formal_review(client: Client, clock: Clock) -> tuple[World, str]:
    w = await build(client, ("huangpu",))
    clock.now = beijing(2024, 3, 5, 10, 0)
    return w, await page_session(client)


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


async def test_a_result_is_reviewed_beside_its_files_and_the_next_one_opens(
    client: Client, clock: Clock
) -> None:
    w, token = await world_in_formal_review(client, clock)
    queue_url = f"/saq/review/{w.campaign_id}/formal"
    queue = await client.get(queue_url)
    assert queue.status_code == 200
    assert "已审 0/5" in queue.text
    assert all(e.serial in queue.text for e in w.entries)

    first, second = w.entries[0], w.entries[1]
    opened = await client.get(f"{queue_url}/{first.submission_id}")
    assert opened.status_code == 200
    assert all(item in opened.text for item in CHECKLIST)
    frame = re.search(r'<iframe class="document-frame" src="([^"]+)"', opened.text)
    assert frame is not None
    shown = await client.get(frame.group(1))
    assert shown.status_code == 200
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert shown.content.startswith(b"%PDF")
    assert f'href="{queue_url}/{second.submission_id}"' in opened.text  # next in queue

    version = re.search(r'name="version" value="(\d+)"', opened.text)
    assert version is not None
    base = {"csrf_token": token, "version": version.group(1)}
    unmet = await client.post(
        f"{queue_url}/{first.submission_id}",
        data={**base, "decision": "pass", "met": list(CHECKLIST[:3])},
    )
    assert unmet.status_code == 422
    assert beside(unmet.text, "decision") == "有审查项未满足，不能通过"
    assert 'value="成果为近两年内取得" checked' in unmet.text  # the ticks kept
    no_reason = await client.post(
        f"{queue_url}/{first.submission_id}", data={**base, "decision": "reject"}
    )
    assert beside(no_reason.text, "reason") == "请说明不通过的理由"
    english = await client.post(
        f"{queue_url}/{first.submission_id}",
        data={**base, "decision": "pass"},
        headers={"accept-language": "en"},
    )
    assert beside(english.text, "decision") == "An item of the checklist is not met: it cannot pass"
    stored = client.app.state.platform.tenants["saq"].ledger.get_submission(
        UUID(first.submission_id)
    )
    assert stored.formal_review is None and stored.status.value == "submitted"

    returned = await client.post(
        f"{queue_url}/{first.submission_id}",
        data={
            **base,
            "decision": "return",
            "met": list(CHECKLIST[1:]),
            "items": "补充效果检查数据",
        },
        follow_redirects=False,
    )
    assert returned.status_code == 303
    assert returned.headers["location"] == f"{queue_url}/{second.submission_id}?done=returned"
    stored = client.app.state.platform.tenants["saq"].ledger.get_submission(
        UUID(first.submission_id)
    )
    assert stored.status.value == "returned"
    assert stored.corrections == ["盖章申报表齐全", "补充效果检查数据"]
    following = await client.get(returned.headers["location"])
    assert "已审 1/5" in following.text and "已退回修改" in following.text


async def test_several_results_pass_at_once_or_none_with_the_refused_one_named(
    client: Client, clock: Clock
) -> None:
    w, token = await world_in_formal_review(client, clock)
    queue_url = f"/saq/review/{w.campaign_id}/formal"
    ids = [e.submission_id for e in w.entries]
    rejected = await client.post(
        f"{queue_url}/{ids[0]}",
        data={"csrf_token": token, "decision": "reject", "reason": "成果取得时间超过两年"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303

    none = await client.post(f"{queue_url}/bulk", data={"csrf_token": token})
    assert none.status_code == 422 and "请勾选要通过形式审查的成果" in none.text
    stale = await client.post(f"{queue_url}/bulk", data={"csrf_token": token, "submissions": ids})
    assert stale.status_code == 409
    assert w.entries[0].serial in stale.text and "不能形式审查" in stale.text
    assert (await client.get(queue_url)).text.count('name="submissions"') == 4

    passed = await client.post(
        f"{queue_url}/bulk",
        data={"csrf_token": token, "submissions": ids[1:]},
        follow_redirects=False,
    )
    assert passed.status_code == 303
    shown = await client.get(passed.headers["location"])
    assert "已通过 4 项成果的形式审查" in shown.text and "已审 5/5" in shown.text
    everything = await client.get(f"{queue_url}?show=all")
    assert everything.text.count("已通过") >= 4 and "不通过" in everything.text


async def test_review_pages_are_the_secretariats_only(client: Client, clock: Clock) -> None:
    w, _ = await world_in_formal_review(client, clock)
    await page_session(client, Role.RECOMMENDING_UNIT, "huangpu")
    for path in (
        "/saq/review/",
        f"/saq/review/{w.campaign_id}/formal",
        f"/saq/review/{w.campaign_id}/formal/{w.entries[0].submission_id}",
        f"/saq/review/{w.campaign_id}/plan",
        "/saq/review/experts",
    ):
        answered = await client.get(path)
        assert answered.status_code in (403, 404), path


def plan_form(text: str) -> dict[str, Any]:
    """The plan form's fields as the page filled them (checkboxes only when checked)."""
    form: dict[str, Any] = {}
    for tag in re.findall(r"<(?:input|select)[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name.group(1) == "action":
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        form.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for select in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select.group(2))
        form[select.group(1)] = [chosen.group(1) if chosen else ""]
    return {k: v if len(v) > 1 or k == "checklist" else v[0] for k, v in form.items()}


async def test_a_plan_is_edited_its_rows_added_and_a_bad_rubric_refused_beside_it(
    client: Client, clock: Clock
) -> None:
    w, _ = await world_in_formal_review(client, clock)
    url = f"/saq/review/{w.campaign_id}/plan"
    shown = await client.get(url)
    assert shown.status_code == 200
    assert "三轮评审" in shown.text and "去掉一个最高分和一个最低分后取平均" in shown.text
    assert "综合成绩 = 材料评审成绩 × 60% + 发表赛成绩 × 40%" in shown.text
    english = await client.get(url, headers={"accept-language": "en"})
    assert "3 rounds of review" in english.text
    assert "the mean after dropping the highest and the lowest score" in english.text
    form = plan_form(shown.text)

    added = await client.post(url, data={**form, "action": "add:rounds"})
    assert added.status_code == 200
    assert 'name="rounds[3].code"' in added.text
    removed = await client.post(url, data={**plan_form(added.text), "action": "remove:rounds:3"})
    assert 'name="rounds[3].code"' not in removed.text

    bad = {**form, "rubrics.innovative[0].points": "25", "action": "save"}
    refused = await client.post(url, data=bad)
    assert refused.status_code == 422
    assert beside(refused.text, "rubrics-innovative") == "各项分值之和须为满分 100"
    assert "合计 110 / 100 分" in refused.text
    assert 'value="25"' in refused.text  # kept as typed
    before = client.app.state.platform.tenants["saq"].ledger.get_campaign(UUID(w.campaign_id))
    assert before.review_plan.rubrics["innovative"]["选题"] == 15

    good = {
        **form,
        "grading": "rank",
        "bands[0].quota": "2",
        "bands[1].quota": "5",
        "bands[2].quota": "10",
        "action": "save",
    }
    saved = await client.post(url, data=good, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    after = await client.get(saved.headers["location"])
    assert "评审方案已保存" in after.text
    assert "按名次认定等级" in after.text and "第 3 至 7 名" in after.text


async def test_the_pool_is_listed_imported_and_a_conflict_declared(
    client: Client, clock: Clock
) -> None:
    w, token = await world_in_formal_review(client, clock)
    clock.now = beijing(2026, 10, 15, 9, 0)  # the pool's certificates run to 2026-12-31
    pool = await client.get("/saq/review/experts")
    assert pool.status_code == 200
    assert all(x.number in pool.text for x in w.experts)
    assert pool.text.count("即将到期") == len(w.experts) + 1  # each flagged, and the legend

    blank = await client.get("/saq/review/experts/template.xlsx")
    book = load_workbook(io.BytesIO(blank.content))
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "新评委",
            "某研究院",
            "",
            "13900001111",
            "评审员证",
            "NEW-0001",
            "上海市质量协会",
            "评审员",
            date(2028, 1, 1),
        ]
    )
    sheet.append(
        [
            "坏评委",
            "某研究院",
            "",
            "0213",
            "评审员证",
            "NEW-0002",
            "上海市质量协会",
            "评审员",
            date(2028, 1, 1),
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    files = {"file": ("pool.xlsx", buffer.getvalue(), "application/octet-stream")}
    refused = await client.post(
        "/saq/review/experts/import", data={"csrf_token": token}, files=files
    )
    assert refused.status_code == 422
    assert "第 4 行 · 手机：手机号应为 11 位数字，以 1 开头" in refused.text
    assert "NEW-0001" not in (await client.get("/saq/review/experts")).text
    english = await client.post(
        "/saq/review/experts/import",
        data={"csrf_token": token},
        files=files,
        headers={"accept-language": "en"},
    )
    assert "Row 4 · " in english.text and "A mobile number has 11 digits" in english.text

    number = w.experts[5].number
    declared = await client.post(
        f"/saq/review/experts/{number}/conflicts",
        data={"csrf_token": token, "kind": "recommending_unit", "value": "huangpu", "reason": ""},
    )
    assert declared.status_code == 422
    assert beside(declared.text, "reason") == "请说明回避理由"
    declared = await client.post(
        f"/saq/review/experts/{number}/conflicts",
        data={
            "csrf_token": token,
            "kind": "recommending_unit",
            "value": "huangpu",
            "reason": "曾任黄浦区质协评审组成员",
        },
        follow_redirects=False,
    )
    assert declared.status_code == 303
    shown = await client.get(declared.headers["location"])
    assert "曾任黄浦区质协评审组成员" in shown.text and "已登记回避" in shown.text
    listed = await client.get("/saq/review/experts")
    assert "推荐单位（代码）：黄浦区 <code>huangpu</code>" in listed.text  # the name, and the code
    assert "黄浦区 <code>huangpu</code> — 曾任黄浦区质协评审组成员" in shown.text

    # An expert's other two forms: the profile (a date that is none refused beside it, the
    # input kept) and retiring (a reason asked for beside its own field, then retired).
    other = f"/saq/review/experts/{w.experts[6].number}"
    shown = await client.get(other)
    profile = dict(re.findall(r'name="([a-z_.]+)" type="[a-z]+" value="([^"]*)"', shown.text))
    assert profile["name"] == w.experts[6].name
    typo = {**profile, "certificate.valid_until": "2026-13-01", "work_unit": "新的工作单位"}
    refused = await client.post(f"{other}/profile", data={"csrf_token": token, **typo})
    assert refused.status_code == 422
    assert beside(refused.text, "certificate.valid_until") == "有效期应为日期，如 2026-12-31"
    assert 'value="新的工作单位"' in refused.text
    refused = await client.post(f"{other}/retire", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    assert beside(refused.text, "retire-reason") == "请说明原因"
    assert not beside(refused.text, "certificate.valid_until")
    retired = await client.post(
        f"{other}/retire",
        data={"csrf_token": token, "reason": "证书到期未续"},
        follow_redirects=False,
    )
    assert (retired.status_code, retired.headers["location"]) == (303, f"{other}?done=retired")
    assert "已退出专家库" in (await client.get(retired.headers["location"])).text
