"""A recommending unit's 推荐表 in Chromium: four results filed under 浦东新区 (set up through the
API), the unit adds its roster member, scores and evaluates each (the 301st character refused
beside the field, the live count over its limit), ranks them by dragging and by the keyboard's
up button, accepts the declaration, files, sees the form read-only with who filed it, and
downloads the .xlsx whose cells the test reads back."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Programme
from tests.e2e import pages
from tests.e2e.conftest import Site
from tests.e2e.pages import DESKTOP
from tests.support import new_password

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
QC_2024 = Campaign.create_id("saq", Programme.QC_GROUP, 2024)
PDF = b"%PDF-1.4\n" + b"%" * 2000 + b"\n%%EOF\n"
ENTERPRISES = {
    "91100000100003962T": "中国工商银行股份有限公司上海市分行",
    "91310000132260250X": "上海汽车集团股份有限公司",
}
REVIEWER = ("周敏", "上海电气集团股份有限公司", "CAQ-QC-2019-0312", "13601234567")


def account(site: Site, role: Role, scope: str, name: str) -> tuple[str, str]:
    login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    site.app.state.platform.tenants["saq"].ledger.register_account(
        login=login,
        name=name,
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(role, scope)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def filed_under_pudong(site: Site) -> dict[str, str]:
    """Through the API: two results of each of two enterprises filed under 浦东新区; their
    titles by id, in the order filed."""
    api = f"{site.url}/api/v1/tenants/saq"
    titles = {}
    with httpx.Client(timeout=30) as http:
        for code, unit_name in ENTERPRISES.items():
            login, password = account(site, Role.APPLICANT_UNIT, code, "王芳")
            session = http.post(f"{api}/session", json={"login": login, "password": password})
            headers = {"Authorization": f"Bearer {session.json()['token']}"}
            for topic, kind in (("降低差错率", "problem_solving"), ("研制新型工装", "innovative")):
                body = {
                    "recommending_unit": "pudong",
                    "applicant": {
                        "unit_name": unit_name,
                        "key_domain": "制造",
                        "key_industries": ["金融"],
                    },
                    "qc_result": {
                        "group_name": f"{unit_name[:4]}{kind[:3]}QC小组",
                        "group_size": 6,
                        "topic_name": f"{unit_name[:4]}{topic}",
                        "industry": "金融业",
                        "topic_type": kind,
                        "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
                        "intro": "小组围绕业务差错开展活动。" * 70,
                        "commitments": [True, True, True, True],
                    },
                }
                drafted = http.post(
                    f"{api}/campaigns/{QC_2024}/submissions", json=body, headers=headers
                )
                assert drafted.status_code == 201, drafted.text
                submission_id = drafted.json()["id"]
                for file_kind in ("application_form", "report", "evidence"):
                    uploaded = http.post(
                        f"{api}/submissions/{submission_id}/attachments/{file_kind}",
                        params={"name": f"{file_kind}.pdf"},
                        content=PDF + file_kind.encode(),
                        headers={**headers, "content-type": "application/octet-stream"},
                    )
                    assert uploaded.status_code == 201, uploaded.text
                submitted = http.post(f"{api}/submissions/{submission_id}/submit", headers=headers)
                assert submitted.status_code == 200, submitted.text
                titles[submission_id] = (
                    f"{body['qc_result']['group_name']}：{body['qc_result']['topic_name']}"
                )
    return titles


def checked(page: Page, name: str) -> None:
    pages.looks_right(page, f"prec-{name}", SHOTS)


def ranks(page: Page) -> list[str]:
    return page.locator("ol.ranking li.entry").evaluate_all(
        "items => items.map(li => li.getAttribute('data-submission'))"
    )


def recommend(page: Page, n: int, submission_id: str) -> None:
    """Score, reviewer and evaluation of one result; the first evaluation is one character too
    long, refused beside the field with the input kept, then cut to 300."""
    card = page.locator(f"#candidate-{submission_id}")
    card.get_by_label("打分（0 至 100）").fill(str(80 + n))
    card.get_by_label("打分评委").select_option(REVIEWER[2])
    evaluation = card.get_by_label("成果评价（优势/不足之处，限 300 字）")
    if n == 0:
        evaluation.fill("评" * 301)
        expect(card.locator(".count")).to_contain_text("301/300")
        expect(card.locator(".count")).to_have_class("count muted over")
        card.get_by_role("button", name="列入推荐目录").click()
        refused = page.locator(f"#e-{submission_id}-evaluation")
        expect(refused).to_have_text("成果评价限 300 字")
        checked(page, "form-refused")
        card = page.locator(f"#candidate-{submission_id}")
        evaluation = card.get_by_label("成果评价（优势/不足之处，限 300 字）")
        expect(evaluation).to_have_value("评" * 301)  # the input kept
        evaluation.fill("评" * 300)
        expect(card.locator(".count")).to_contain_text("300/300")
    else:
        evaluation.fill(f"第 {n + 1} 项：选题合理，数据翔实；对策实施可再细化。")
    card.get_by_role("button", name="列入推荐目录").click()
    expect(page.locator(f"#entry-{submission_id}")).to_be_visible()


def downloaded(page: Page, tmp_path: Path) -> None:
    """The .xlsx in one click, read back: the seed's layout with the ranking as filed."""
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 .xlsx").click()
    path = tmp_path / "推荐表.xlsx"
    download.value.save_as(path)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "2024年上海市质量管理小组活动成果推荐表"
    assert rows[1][0] == "推荐单位（单位公章）：浦东新区"
    header = rows.index(("排序", "企业名称", "小组名称", "课题类型", "打分", "评委", "编号"))
    entries = rows[header + 1 : header + 9 : 2]
    assert [r[0] for r in entries] == [1, 2, 3, 4]
    assert [r[4] for r in entries] == [83, 80, 82, 81]
    assert {r[5] for r in entries} == {"周敏"}
    assert rows[header + 4][1] == "评" * 300
    roster_at = rows.index(("序号", "姓名", "工作单位", "评委证书编号", "手机", None, None))
    assert rows[roster_at + 1][:5] == (1, *REVIEWER)
    assert any(r[0] == "填表人：陈静" for r in rows)


def browse_to_the_form(page: Page, titles: dict[str, str]) -> None:
    """推荐通道 → the results filed under the unit (filtered) → one result → its 推荐表."""
    ids = list(titles)
    page.get_by_role("link", name="推荐通道").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("推荐通道")
    checked(page, "home")
    line = page.locator(".campaign-line", has_text="2024年上海市质量管理小组活动")
    line.get_by_role("link", name="向本单位申报的成果").click()
    expect(page.locator("table.unit-results tbody tr")).to_have_count(4)
    checked(page, "results")
    page.get_by_label("课题类型").select_option("innovative")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.unit-results tbody tr")).to_have_count(2)
    page.get_by_role("link", name=titles[ids[1]]).click()
    expect(page.get_by_role("link", name="report.pdf")).to_be_visible()
    checked(page, "result")
    page.get_by_role("link", name="去推荐表").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("推荐表")
    checked(page, "form-empty")


def test_a_unit_ranks_scores_files_and_downloads_its_recommendation_form(
    site: Site, page: Page, tmp_path: Path
) -> None:
    titles = filed_under_pudong(site)
    ids = list(titles)
    login, password = account(site, Role.RECOMMENDING_UNIT, "pudong", "陈静")
    page.goto(f"{site.url}/saq/sign-in")
    page.get_by_label("登录名（邮箱）").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".who .person")).to_have_text("陈静")

    browse_to_the_form(page, titles)

    roster = page.locator("form.reviewer-form")
    for label, value in zip(("姓名", "工作单位", "评委证书编号", "手机"), REVIEWER, strict=True):
        roster.get_by_label(label, exact=True).fill(value)
    roster.get_by_role("button", name="添加到评委名单").click()
    expect(page.locator("table.roster tbody tr")).to_have_count(1)

    for n, submission_id in enumerate(ids):
        recommend(page, n, submission_id)
    assert ranks(page) == ids
    expect(page.locator(".quotas")).to_contain_text("中国工商银行股份有限公司上海市分行已推荐 2/3")

    # Drag the fourth above the first; then the keyboard: the third moves up one place.
    # (A viewport tall enough for both rows: a drag does not scroll the page under the mouse.)
    page.set_viewport_size({"width": 1280, "height": 2400})
    page.evaluate("window.scrollTo(0, 0)")
    last = page.locator(f"#entry-{ids[3]} .handle")
    last.drag_to(page.locator(f"#entry-{ids[0]}"), target_position={"x": 20, "y": 5})
    page.set_viewport_size(DESKTOP)
    expect(page.locator("ol.ranking li.entry").first).to_have_attribute("data-submission", ids[3])
    assert ranks(page) == [ids[3], ids[0], ids[1], ids[2]]
    up = page.locator(f"#entry-{ids[2]}").get_by_role("button", name=f"上移：{titles[ids[2]]}")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("ol.ranking li.entry").nth(2)).to_have_attribute("data-submission", ids[2])
    assert ranks(page) == [ids[3], ids[0], ids[2], ids[1]]
    checked(page, "form-ranked")

    page.get_by_label("本单位已阅读并接受以上推荐声明").check()
    page.get_by_label("填表人").fill("陈静")
    page.get_by_label("电话").fill("021-58881234")
    page.get_by_role("button", name="接受推荐声明").click()
    expect(page.locator(".declared")).to_contain_text("陈静")
    page.get_by_role("button", name="报送推荐表").click()
    expect(page.locator(".notice.filed")).to_contain_text("由 陈静 报送")
    expect(page.locator(".notice.filed")).to_contain_text("2024年4月28日")
    expect(page.get_by_role("button", name="列入推荐目录")).to_have_count(0)
    expect(page.locator("textarea")).to_have_count(0)
    checked(page, "form-filed")

    downloaded(page, tmp_path)
