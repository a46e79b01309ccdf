"""Issue 20's season in Chromium, on SQLite and PostgreSQL: a small Shandong-style QC campaign
(sdaq: initial review, then the presentation contest, the grade from both). Twelve results are
filed and recommended through the API; then, in the browser, the secretariat reviews them
formally (one returned, one rejected), saves the plan, imports a pool of 8 experts and declares
two conflicts, opens the initial round and assigns it automatically (the reviewers left out and
why shown), is refused a manual assignment for a conflict; four reviewers file their sheets on a
390 px page with save and next (one corrects a sheet); the round is aggregated by the trimmed
mean; the top 6 present at the contest, four judges scoring on phone-sized pages (the first two
presentations; the rest through the ledger, for time) while a second browser shows the big
screen update without a reload; grading (an override with a reason), the
notice with a public objection upheld, publication and a certificate PDF. The figures on the
pages equal the API's; no reviewer's page or response holds another reviewer's sheet; every page
is axe-clean and fits 390 px (`looks_right`)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from aggregates.review_plan import DEFAULT_CHECKLIST
from aggregates.scoring import combine
from tenants.settings import Settings
from tests.e2e import pages
from tests.e2e.conftest import served
from tests.e2e.shandong import (
    API,
    EXPERTS,
    JUDGES,
    NUMBERS,
    ON_PHONES,
    TENANT,
    TITLE,
    WEIGHT,
    YEAR,
    Season,
    build,
    trimmed,
)
from tests.e2e.shandong_phones import files_on_a_phone, judges_on_phones, others_file
from tests.support import Clock, beijing

pytestmark = pytest.mark.e2e

UNIT_NAMES = {"jinan": "济南市", "qingdao": "青岛市", "yantai": "烟台市"}
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def season(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    settings = Settings(
        database_url=database,
        data_dir=tmp_path_factory.mktemp("e2e-season") / "var",
        pg_pool_size=2,
        session_hours=24 * 365,  # one sign-in lasts through the season's business time
    )
    clock = Clock(beijing(YEAR, 5, 10, 9, 0))
    with ThreadPoolExecutor(1) as worker:  # Playwright's sync API keeps a loop in this thread
        campaign_id, results, accounts = worker.submit(asyncio.run, build(settings, clock)).result()
    clock.now = beijing(YEAR, 6, 7, 9, 0)  # formal review
    with served(settings, clock) as (url, app):
        yield Season(url, app, clock, campaign_id, results, accounts, SHOTS)


def test_a_shandong_season_from_formal_review_to_a_certificate(
    season: Season, page: Page, playwright_browser: Browser, tmp_path: Path
) -> None:
    s = season
    pages.sign_in(page, s.url, *s.accounts["secretariat"], tenant=TENANT)
    reads_the_recommendations(page, s)
    passed = formal_review(page, s)
    plans_the_review(page, s)
    enrols_the_pool(page, s, tmp_path)

    s.clock.now = beijing(YEAR, 6, 15, 9, 0)  # initial review
    opens_and_assigns(page, s, passed)
    others_file(s)
    for i, number in enumerate(ON_PHONES):
        files_on_a_phone(playwright_browser, s, number, first=i == 0)
    aggregates_and_closes(page, s)

    s.clock.now = beijing(YEAR, 7, 5, 9, 0)  # the contest
    top = opens_the_contest(page, s)
    judges_on_phones(page, playwright_browser, s, top)
    closes(page, s, "contest")

    s.clock.now = beijing(YEAR, 7, 23, 9, 0)  # grading and the notice
    grades_and_notices(page, playwright_browser, s)
    s.clock.now = beijing(YEAR, 7, 30, 9, 0)  # publication
    publishes(page, s)


def reads_the_recommendations(page: Page, s: Season) -> None:
    """推荐决定: the three cities' forms filed, one read."""
    pages.navigate(page, "活动", "推荐决定")
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator(".units-count")).to_contain_text("已报送 3 个")
    s.looks_right(page, "decisions")
    page.get_by_role("link", name="济南市").click()
    expect(page.locator("main")).to_contain_text("陈静")  # who filled it in
    s.looks_right(page, "decisions-form")


def formal_review(page: Page, s: Season) -> list[dict[str, Any]]:
    """One returned with the unmet item, one rejected with a reason, ten passed at once; the
    results passed."""
    first, second, third = s.results[:3]
    pages.navigate(page, "评审", "形式审查与评审方案")
    s.looks_right(page, "review")
    page.get_by_role("row", name=TITLE).get_by_role("link", name="已审 0/12").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("形式审查")
    s.looks_right(page, "formal-queue")
    page.get_by_role("link", name=f"审查 {first['serial']}").click()
    expect(page.locator("iframe.document-frame")).to_be_visible()
    s.looks_right(page, "formal-result")
    for item in DEFAULT_CHECKLIST:
        if item != "成果报告齐全":
            page.get_by_label(item).check()
    page.get_by_label("退回修改：须修改的事项").fill("成果报告缺效果检查的数据")
    page.get_by_role("button", name="退回修改").click()
    expect(page.get_by_role("status")).to_contain_text("已退回修改")
    expect(page.locator("dl.facts")).to_contain_text(second["serial"])
    page.get_by_label("不通过的理由").fill("成果取得时间超过两年")
    page.get_by_role("button", name="不通过", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已判定不通过")
    expect(page.locator("dl.facts")).to_contain_text(third["serial"])
    page.get_by_role("link", name="返回队列").click()
    boxes = page.locator('input[name="submissions"]')
    expect(boxes).to_have_count(10)
    for i in range(10):
        boxes.nth(i).check()
    page.get_by_role("button", name="所选成果全部符合清单，通过形式审查").click()
    expect(page.get_by_role("status")).to_contain_text("已通过 10 项成果的形式审查")
    expect(page.locator(".review-progress")).to_contain_text("已审 12/12")
    return s.results[2:]


def plans_the_review(page: Page, s: Season) -> None:
    """Shandong's plan: 初评 by four reviewers, trimmed mean; the contest by four judges; the
    grade from both, half and half; three grades, the first two only through the contest."""
    pages.navigate(page, "评审", "形式审查与评审方案")
    page.get_by_role("row", name=TITLE).get_by_role("link", name="编辑评审方案").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("评审方案")
    page.get_by_role("button", name="删除轮次 复评").click()
    page.get_by_role("button", name="添加轮次").click()
    fields = {
        "rounds[0].reviewers_per_submission": "4",
        "rounds[1].code": "contest",
        "rounds[1].name_zh": "发表赛",
        "rounds[1].reviewers_per_submission": "4",
        "presentation_weight": str(WEIGHT),
        "bands[0].min_score": "85",
        "bands[0].quota": "2",
        "bands[1].min_score": "78",
        "bands[2].min_score": "65",
    }
    for name, value in fields.items():
        page.locator(f'[name="{name}"]').fill(value)
    page.locator('[name="rounds[1].kind"]').select_option("presentation")
    page.locator('[name="rounds[1].aggregation"]').select_option("trimmed_mean")
    page.locator('[name="bands[0].requires_presentation"]').check()
    page.locator('[name="bands[1].requires_presentation"]').check()
    page.get_by_role("button", name="保存评审方案").first.click()
    expect(page.get_by_role("status")).to_have_text("评审方案已保存。")
    effect = page.locator(".plan-effect")
    expect(effect).to_contain_text("综合成绩 = 材料评审成绩 × 50% + 发表赛成绩 × 50%")
    expect(effect).to_contain_text("去掉一个最高分和一个最低分后取平均")
    s.looks_right(page, "plan")
    plan = page.request.get(s.api("/review-plan")).json()["plan"]
    assert [
        (r["code"], r["kind"], r["reviewers_per_submission"], r["aggregation"])
        for r in plan["rounds"]
    ] == [
        ("initial", "material", 4, "trimmed_mean"),
        ("contest", "presentation", 4, "trimmed_mean"),
    ]
    assert Decimal(plan["presentation_weight"]) == WEIGHT


def pool_file(template: bytes) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book.active
    assert sheet is not None
    for n, (name, number) in enumerate(zip(EXPERTS, NUMBERS, strict=True), start=1):
        sheet.append(
            [name, f"山东省质量管理协会专家委员会第{n}组", "", f"1395310{n:04d}", "QC小组评审员",
             number, "山东省质量管理协会", "评审员", date(2026, 12, 31)]
        )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def enrols_the_pool(page: Page, s: Season, tmp: Path) -> None:
    """8 experts imported from the .xlsx template; two conflicts declared: the first with 济南市
    (a recommending unit), the second with a 青岛 applicant (by credit code)."""
    pages.navigate(page, "评审", "评审专家库")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="下载导入模板（.xlsx）").click()
    (tmp / "pool.xlsx").write_bytes(pool_file(Path(downloading.value.path()).read_bytes()))
    page.get_by_label("专家库文件（.xlsx）").set_input_files(str(tmp / "pool.xlsx"))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("status")).to_contain_text("已导入 8 位专家")
    s.looks_right(page, "pool")
    qingdao = next(r for r in s.results if r["unit"] == "qingdao")["credit_code"]
    for name, kind, value in (
        (EXPERTS[0], "recommending_unit", "jinan"),
        (EXPERTS[1], "applicant", qingdao),
    ):
        pages.navigate(page, "评审", "评审专家库")
        page.get_by_role("link", name=name).click()
        page.get_by_label("回避对象类别").select_option(kind)
        page.get_by_label("回避对象（信用代码、推荐单位代码或成果编号）").fill(value)
        page.get_by_label("回避理由").fill("曾在该单位兼职")
        page.get_by_role("button", name="登记回避").click()
        expect(page.get_by_role("status")).to_have_text("已登记回避。")
    s.looks_right(page, "expert")


def opens_and_assigns(page: Page, s: Season, passed: list[dict[str, Any]]) -> None:
    """The entrants shown before the round opens; automatic assignment with who was left out and
    why; a manual assignment refused for the declared conflict, beside the field."""
    pages.navigate(page, "评审", "评审轮次")
    s.looks_right(page, "rounds")
    page.get_by_role("link", name="初评").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("开启初评")
    expect(page.locator("table.entrants tbody tr")).to_have_count(len(passed))
    s.looks_right(page, "round-open")
    page.get_by_role("button", name=f"确认开启本轮（{len(passed)} 项成果）").click()
    expect(page.locator(".notice")).to_contain_text("本轮已开启")
    page.get_by_role("button", name="自动分配", exact=False).click()
    expect(page.locator(".notice")).to_contain_text("已自动分配评委")
    for r in passed:
        row, excluded = (
            page.locator(f"#r-{r['serial']}"),
            page.locator(f"#r-{r['serial']} .excluded"),
        )
        expect(row.locator(".pending")).to_have_count(4)
        expect(row).to_contain_text(UNIT_NAMES[r["unit"]])  # the city's name, not its code
        if r["unit"] == "jinan":
            expect(excluded).to_contain_text(f"{NUMBERS[0]}：本人申报回避：曾在该单位兼职")
        elif r["unit"] == "qingdao":
            expect(excluded).to_contain_text(f"{NUMBERS[1]}：本人申报回避：曾在该单位兼职")
        else:
            expect(excluded.locator("li")).to_have_count(0)
    s.looks_right(page, "round")
    jinan = next(r for r in passed if r["unit"] == "jinan")
    page.get_by_label("成果", exact=True).select_option(jinan["id"])
    page.get_by_label("评委", exact=True).select_option(NUMBERS[0])
    page.get_by_role("button", name="手动分配").click()
    expect(page.locator("#e-certificate_number")).to_have_text("本人申报回避：曾在该单位兼职")
    expect(page.get_by_label("评委", exact=True)).to_have_value(NUMBERS[0])  # input kept
    assignments = s.ledger.get_round(UUID(s.campaign_id), "initial").assignments
    assert NUMBERS[0] not in assignments[jinan["id"]]


def aggregates_and_closes(page: Page, s: Season) -> None:
    """Aggregated: the matrix shows the API's figures, each the trimmed mean of its four sheets;
    the corrected sheet's inputs; the round closed."""
    page.goto(f"{s.url}/{TENANT}/rounds/{s.campaign_id}/initial")
    expect(page.locator(".progress-count")).to_have_text("40/40")
    page.get_by_role("button", name="汇总得分").click()
    expect(page.locator(".notice")).to_contain_text("已汇总得分")
    page.get_by_role("link", name="评分矩阵").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("评分矩阵")
    matrix = page.request.get(s.api("/rounds/initial/matrix")).json()
    for row in matrix["rows"]:
        totals = [Decimal(c["total"]) for c in row["cells"] if c["total"] is not None]
        assert len(totals) == 4 and Decimal(row["score"]) == trimmed(totals), row
        line = page.locator(
            "table.matrix tbody tr", has=page.locator(f"th:text-is('{row['serial']}')")
        )
        expect(line.locator("td").first).to_have_text(str(row["score"]))
        expect(line.locator("td.cell")).to_contain_text(
            [str(c["total"]) for c in row["cells"] if c["total"] is not None]
        )
    s.looks_right(page, "matrix")
    (corrected,) = [r for r in matrix["rows"] if any(c["corrections"] for c in r["cells"])]
    page.locator(
        "table.matrix tbody tr", has=page.locator(f"th:text-is('{corrected['serial']}')")
    ).get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("更正：选题一项看错了材料")
    expect(page.locator("main")).to_contain_text("最高分，去掉")
    s.looks_right(page, "inputs")
    closes(page, s, "initial")


def closes(page: Page, s: Season, code: str) -> None:
    page.goto(f"{s.url}/{TENANT}/rounds/{s.campaign_id}/{code}")
    if code == "contest":
        page.get_by_role("button", name="汇总得分").click()
        expect(page.locator(".notice")).to_contain_text("已汇总得分")
    page.get_by_role("button", name="结束本轮").click()
    expect(page.locator(".notice")).to_contain_text("本轮已结束")


def opens_the_contest(page: Page, s: Season) -> list[str]:
    """The contest opened for the top 6 of the initial review (shown first); its four judges
    assigned through the API (the round page's automatic assignment takes the whole pool)."""
    scores = {
        row["submission_id"]: Decimal(row["score"])
        for row in page.request.get(s.api("/rounds/initial/matrix")).json()["rows"]
    }
    top = sorted(scores, key=lambda k: (-scores[k], k))[:6]
    pages.navigate(page, "评审", "评审轮次")
    page.locator("#main").get_by_role("link", name="发表赛").click()
    page.get_by_label("只取前面轮次得分前 N 名（不填则为全部已通过形式审查的成果）").fill("6")
    page.get_by_role("button", name="按此预览参评成果").click()
    expect(page.locator("table.entrants tbody tr td:first-child")).to_have_text(
        [s.result(k)["serial"] for k in top]
    )
    page.get_by_role("button", name="确认开启本轮（6 项成果）").click()
    expect(page.locator(".notice")).to_contain_text("本轮已开启")
    login, password = s.accounts["secretariat"]
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{s.url}{API}/session", json={"login": login, "password": password})
        bearer = {"Authorization": f"Bearer {session.json()['token']}"}
        assigned = http.post(
            s.api("/rounds/contest/assignments/auto"),
            json={"certificate_numbers": JUDGES},
            headers=bearer,
        )
    assert assigned.status_code == 200, assigned.text
    return top


def grades_and_notices(page: Page, browser: Browser, s: Season) -> None:
    """Graded by the plan (the combined score the weighted mix of the two rounds, as the API
    says); an ungraded result given the third grade with a reason; the notice opened; a member of
    the public objects, the objection upheld and the grade withdrawn."""
    pages.navigate(page, "评审", "等级认定与发布")
    s.looks_right(page, "grading")
    page.locator(f'a[href="/{TENANT}/grading/{s.campaign_id}"]').click()
    page.get_by_role("button", name="按评审方案认定等级").click()
    expect(page.locator(".notice")).to_have_text("已按评审方案认定等级。")
    entries = page.request.get(s.api("/grading")).json()["entries"]
    contest = page.request.get(s.api("/rounds/contest/matrix")).json()["rows"]
    presented = {row["submission_id"]: Decimal(row["score"]) for row in contest}
    assert len(presented) == 6
    for e in entries:
        mine = presented.get(e["submission_id"])
        assert (Decimal(e["presentation"]) if e["presentation"] else None) == mine
        expected = (
            Decimal(e["material"])
            if mine is None
            else combine(Decimal(e["material"]), mine, WEIGHT)
        )
        assert Decimal(e["combined"]) == expected, e
        row = page.locator(f"#r-{e['submission_id']}")
        expect(row.locator("td.material")).to_have_text(str(e["material"]))
        expect(row.locator("td.presentation")).to_have_text(str(e["presentation"] or "—"))
        expect(row.locator("td.combined")).to_have_text(str(e["combined"]))
        expect(row.locator("td.basis")).to_contain_text(e["basis"] or "")
    s.looks_right(page, "ranking")

    ungraded = next(e for e in entries if e["grade"] is None)
    page.locator(f"#r-{ungraded['submission_id']} a").click()
    page.get_by_label("等级", exact=True).select_option(label="三等成果")
    page.get_by_role("button", name="调整等级").click()
    expect(page.locator("#e-reason")).to_have_text("调整等级须说明理由")
    s.looks_right(page, "grading-override-refused")
    page.get_by_label("调整理由（记入审计记录）").fill("经复核，补充的成效证明材料成立。")
    page.get_by_role("button", name="调整等级").click()
    expect(page.locator(".notice")).to_have_text("已调整等级，理由已记录。")
    expect(page.locator(f"#r-{ungraded['submission_id']} td.grade")).to_have_text("三等成果")

    page.get_by_role("button", name="开始公示").click()
    expect(page.locator("#grading-status")).to_have_text("公示中")
    objected = next(e for e in entries if e["grade"] == "first")
    pages.objects_in_public(browser, s.url, s.app, TENANT, s.campaign_id, objected, SHOTS)
    page.reload()
    page.get_by_role("link", name="待处理").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(objected["topic"])
    page.get_by_label("异议成立", exact=True).check()
    page.get_by_label("异议成立，改变等级").check()
    page.get_by_label("改为等级").select_option(label="无等级")
    s.looks_right(page, "objection")
    page.get_by_label("处理意见").fill("经核实，成果数据与企业年报不符，取消等级。")
    page.get_by_role("button", name="提交处理结果").click()
    expect(page.locator(".notice")).to_have_text("已处理异议。")
    expect(page.locator(f"#r-{objected['submission_id']} td.grade")).to_have_text("无等级")
    grading = page.request.get(s.api("/grading")).json()
    assert grading["overrides"] == {ungraded["submission_id"]: "经复核，补充的成效证明材料成立。"}
    assert [o["decision"] for o in grading["objections"]] == ["upheld"]
    names = {"first": "一等成果", "second": "二等成果", "third": "三等成果", None: "无等级"}
    expect(page.locator("table.ranking td.grade")).to_have_text(
        [names[e["grade"]] for e in grading["entries"]]
    )


def publishes(page: Page, s: Season) -> None:
    """The notice closed, the results published; a certificate opened: a PDF of that result."""
    page.get_by_role("button", name="结束公示").click()
    expect(page.locator(".notice")).to_have_text("公示已结束。")
    page.get_by_role("button", name="发布结果并生成证书").click()
    expect(page.locator(".notice")).to_have_text("结果已发布，证书已生成。")
    grading = page.request.get(s.api("/grading")).json()
    certificates = grading["certificates"]
    assert set(certificates) == {e["submission_id"] for e in grading["entries"] if e["grade"]}
    links = page.locator(".certificates a")
    expect(links).to_have_count(len(certificates))
    href = links.first.get_attribute("href")
    assert href is not None
    submission_id = href.rsplit("/", 1)[-1]
    response = page.request.get(s.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    content = response.body()
    assert content.startswith(b"%PDF")
    code = certificates[submission_id]
    assert code.encode() in content  # (uncompressed: api/review/certificates.py)
    verified = page.request.get(f"{s.url}/api/v1/certificates/{code}").json()
    assert verified["valid"] and verified["topic"] == s.result(submission_id)["title"]
    if SHOTS:
        (SHOTS / "season-certificate.pdf").write_bytes(content)
