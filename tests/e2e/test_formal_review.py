"""The secretariat's review desk in Chromium: formal review of six recommended results (one
returned with the unmet items ticked off, one rejected with a reason, the other four passed at
once), a review plan saved (a rubric not adding up to the top score refused beside it first), and
a pool of 8 experts imported from .xlsx (a bad row listed first) with two conflicts declared.
Every page axe-clean and usable at 390 px."""

from __future__ import annotations

import io
import os
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tests.api.review_world import credit_code
from tests.e2e import pages
from tests.e2e.conftest import Site
from tests.support import beijing, new_password

pytestmark = pytest.mark.e2e


def pdf(text: str) -> bytes:
    """A real PDF (the browser's viewer opens it inside the page)."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4)
    sheet.setFont("Helvetica-Bold", 20)
    sheet.drawString(72, 760, text)
    sheet.setFont("Helvetica", 12)
    for line in range(30):
        sheet.drawString(72, 720 - line * 20, f"{line + 1}. QC story step, data and charts.")
    sheet.save()
    return buffer.getvalue()


SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
TITLE = "2025年上海市质量管理小组活动成果交流（形式审查演示）"
ITEMS = ("盖章申报表齐全", "成果报告齐全", "成果为近两年内取得", "推荐单位评审组有持证评委")


def window(opens: str, closes: str) -> dict[str, str]:
    return {"opens_at": f"{opens}T00:00:00+08:00", "closes_at": f"{closes}T22:00:00+08:00"}


CAMPAIGN = {
    "programme": "qc_group",
    "year": 2025,
    "title": TITLE,
    "contact": {"person": "杨瑾", "phone": "021-52588838"},
    "period_start": "2024-01-01",
    "period_end": "2024-12-31",
    "rules": {
        "results_per_applicant_min": 1,
        "results_per_applicant_max": None,
        "distinct_topic_types": False,
        "recommendations_per_applicant_max": None,
    },
    "timeline": {
        "submission": window("2025-01-01", "2025-03-01"),
        "recommendation": window("2025-01-01", "2025-03-01"),
        "formal_review": window("2025-03-02", "2025-03-15"),
        "material_review": window("2025-03-16", "2025-04-30"),
        "public_notice": window("2025-05-25", "2025-06-01"),
        "publication": window("2025-06-02", "2025-06-30"),
    },
}


def account(site: Site, role: Role, scope: str | None) -> tuple[str, str]:
    ledger = site.app.state.platform.tenants["saq"].ledger
    login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name="测试用户",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(role, scope)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def bearer(
    http: httpx.Client, api: str, site: Site, role: Role, scope: str | None
) -> dict[str, str]:
    login, password = account(site, role, scope)
    session = http.post(f"{api}/session", json={"login": login, "password": password})
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['token']}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def submitted_title(a: int, k: int) -> str:
    return f"result {a * 3 + k + 1}"


def six_recommended_results(site: Site) -> dict[str, Any]:
    """Through the API: a campaign of 2025, six results of two applicants filed, each with its
    PDFs, recommended by 浦东新区's filed form."""
    api = f"{site.url}/api/v1/tenants/saq"
    site.clock.now = beijing(2025, 2, 1, 9, 0)
    with httpx.Client(timeout=60) as http:
        secretariat = bearer(http, api, site, Role.SECRETARIAT, None)
        campaign = ok(http.post(f"{api}/campaigns", json=CAMPAIGN, headers=secretariat), 201)
        unit = bearer(http, api, site, Role.RECOMMENDING_UNIT, "pudong")
        form = f"{api}/campaigns/{campaign['id']}/units/pudong/recommendation"
        panel = {
            "name": "浦东评委",
            "work_unit": "浦东新区质量协会",
            "certificate_kind": "上海市QC小组评审员",
            "certificate_number": "PUDONG-QC-0001",
            "mobile": "13700000000",
        }
        ok(http.post(f"{form}/reviewers", json=panel, headers=unit))
        results = []
        for a in range(2):
            code = credit_code(900 + a)
            applicant = bearer(http, api, site, Role.APPLICANT_UNIT, code)
            for k in range(3):
                body = {
                    "recommending_unit": "pudong",
                    "applicant": {
                        "unit_name": f"上海浦江精密机械{a + 1}厂",
                        "key_domain": "制造",
                        "key_industries": ["金融"],
                    },
                    "qc_result": {
                        "group_name": f"第{a + 1}车间QC小组",
                        "group_size": 6,
                        "topic_name": f"提高第{a * 3 + k + 1}号工序一次合格率",
                        "industry": "制造业",
                        "topic_type": ("problem_solving", "innovative")[k % 2],
                        "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
                        "intro": "小组围绕工序一次合格率开展活动。" * 60,
                        "commitments": [True, True, True, True],
                    },
                }
                drafted = ok(
                    http.post(
                        f"{api}/campaigns/{campaign['id']}/submissions",
                        json=body,
                        headers=applicant,
                    ),
                    201,
                )
                for kind in ("application_form", "report", "evidence"):
                    ok(
                        http.post(
                            f"{api}/submissions/{drafted['id']}/attachments/{kind}",
                            params={"name": f"{kind}.pdf"},
                            content=pdf(f"{kind} of {submitted_title(a, k)}"),
                            headers={**applicant, "content-type": "application/octet-stream"},
                        ),
                        201,
                    )
                submitted = ok(
                    http.post(f"{api}/submissions/{drafted['id']}/submit", headers=applicant)
                )
                entry = {
                    "submission_id": drafted["id"],
                    "score": "85",
                    "evaluation": "问题分析透彻，对策有效。",
                    "reviewer": "PUDONG-QC-0001",
                }
                ok(http.post(f"{form}/entries", json=entry, headers=unit))
                results.append({"id": drafted["id"], "serial": submitted["serial"]})
        declaration = {"filled_by": "陈静", "phone": "021-58881234"}
        ok(http.post(f"{form}/declaration", json=declaration, headers=unit))
        ok(http.post(f"{form}/file", headers=unit))
    site.clock.now = beijing(2025, 3, 5, 10, 0)
    return {"campaign": campaign["id"], "results": results}


def looks_right(page: Page, name: str) -> None:
    pages.looks_right(page, f"review-{name}", SHOTS)


def signed_in(page: Page, url: str, login: str, password: str, tenant: str = "saq") -> None:
    """Signed in through the API's session, which sets the cookie the sign-in page sets, for a
    test about what comes after: no page loaded. The sign-in page itself is the journeys'
    (pages.sign_in)."""
    response = page.context.request.post(
        f"{url}/api/v1/tenants/{tenant}/session", data={"login": login, "password": password}
    )
    assert response.status == 201, response.text()


def sign_in(page: Page, site: Site) -> None:
    signed_in(page, site.url, site.login, site.password)
    page.goto(f"{site.url}/saq/")


def formal_review(page: Page, world: dict[str, Any]) -> None:
    """One returned with the unmet items, one rejected with a reason, four passed at once."""
    first, second, third = world["results"][:3]
    pages.navigate(page, "评审", "形式审查与评审方案")
    expect(page.get_by_role("heading", level=1)).to_have_text("评审")
    row = page.get_by_role("row", name=TITLE)
    row.get_by_role("link", name="已审 0/6").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("形式审查")
    looks_right(page, "queue")

    page.get_by_role("link", name=f"审查 {first['serial']}").click()
    expect(page.locator(".review-progress")).to_contain_text("已审 0/6")
    frame = page.locator("iframe.document-frame")
    expect(frame).to_have_attribute("src", re.compile(r"/files/[0-9a-f]{64}$"))
    shown = page.request.get(page.url + "/files/" + str(frame.get_attribute("src")).rsplit("/")[-1])
    assert shown.ok and shown.headers["content-disposition"].startswith("inline")
    looks_right(page, "result")
    for item in ITEMS:
        if item != "成果报告齐全":
            page.get_by_label(item).check()
    page.get_by_label("退回修改：须修改的事项").fill("补充效果检查的数据")
    page.get_by_role("button", name="退回修改").click()
    expect(page.get_by_role("status")).to_contain_text("已退回修改")
    expect(page.locator("dl.facts")).to_contain_text(second["serial"])  # the next one, at once
    expect(page.locator(".review-progress")).to_contain_text("已审 1/6")

    page.get_by_role("button", name="不通过", exact=True).click()
    expect(page.locator("#e-reason")).to_have_text("请说明不通过的理由")
    looks_right(page, "result-refused")
    page.get_by_label("不通过的理由").fill("成果取得时间超过两年")
    page.get_by_role("button", name="不通过", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已判定不通过")
    expect(page.locator("dl.facts")).to_contain_text(third["serial"])

    page.get_by_role("link", name="返回队列").click()
    boxes = page.locator('input[name="submissions"]')
    expect(boxes).to_have_count(4)
    for i in range(4):
        boxes.nth(i).check()
    page.get_by_role("button", name="所选成果全部符合清单，通过形式审查").click()
    expect(page.get_by_role("status")).to_contain_text("已通过 4 项成果的形式审查")
    expect(page.locator(".review-progress")).to_contain_text("已审 6/6")
    page.get_by_role("link", name="全部", exact=True).click()
    expect(page.locator(".state.passed")).to_have_count(4)
    expect(page.locator(".state.returned")).to_have_count(1)
    expect(page.locator(".state.rejected")).to_have_count(1)
    looks_right(page, "queue-all")


def review_plan(page: Page) -> None:
    """A rubric that does not add up is refused beside it; the plan is then saved."""
    pages.navigate(page, "评审", "形式审查与评审方案")
    page.get_by_role("row", name=TITLE).get_by_role("link", name="编辑评审方案").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("评审方案")
    expect(page.locator(".plan-effect")).to_contain_text("两轮评审")
    expect(page.locator(".plan-effect")).to_contain_text("去掉一个最高分和一个最低分后取平均")
    looks_right(page, "plan")
    page.locator('[name="bands[0].min_score"]').fill("85")
    page.locator('[name="bands[1].min_score"]').fill("75")
    page.locator('[name="bands[2].min_score"]').fill("60")
    page.get_by_role("button", name="添加轮次").click()
    page.locator('[name="rounds[2].code"]').fill("contest")
    page.locator('[name="rounds[2].name_zh"]').fill("发表赛")
    page.locator('[name="rounds[2].kind"]').select_option("presentation")
    page.locator('[name="rubrics.innovative[0].points"]').fill("25")
    innovative = page.locator("fieldset.rubric", has_text="创新型课题").locator(".sum")
    expect(innovative).to_have_text("合计 110 / 100 分")  # as typed (review.js)
    expect(innovative).to_have_class(re.compile(r"\boff\b"))
    page.get_by_role("button", name="保存评审方案").first.click()
    expect(page.locator("#e-rubrics-innovative")).to_have_text("各项分值之和须为满分 100")
    expect(page.locator('[name="rounds[2].code"]')).to_have_value("contest")  # input kept
    looks_right(page, "plan-refused")
    page.locator('[name="rubrics.innovative[0].points"]').fill("15")
    page.get_by_role("button", name="保存评审方案").first.click()
    expect(page.get_by_role("status")).to_have_text("评审方案已保存。")
    effect = page.locator(".plan-effect")
    expect(effect).to_contain_text("三轮评审")
    expect(effect).to_contain_text("综合成绩 = 材料评审成绩 × 60% + 发表赛成绩 × 40%")
    expect(effect).to_contain_text("85 分及以上")


def pool_rows(template: bytes, bad: bool) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book.active
    assert sheet is not None
    for n in range(1, 9):
        mobile = "0213" if bad and n == 2 else f"1390000{n:04d}"
        until = date(2025, 5, 1) if n == 8 else date(2027, 12, 31)
        sheet.append(
            [f"导入评委{n:02d}", f"上海质量研究院第{n}研究室", "", mobile, "上海市QC小组评审员",
             f"SQA-2025-{n:04d}", "上海市质量协会", "评审员", until]
        )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def expert_pool(page: Page, tmp: Path) -> None:
    """8 experts imported (a bad row listed first, nothing stored), two conflicts declared."""
    pages.navigate(page, "评审", "评审专家库")
    expect(page.get_by_role("heading", level=1)).to_have_text("评审专家库")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="下载导入模板（.xlsx）").click()
    template = Path(downloading.value.path()).read_bytes()
    (tmp / "bad.xlsx").write_bytes(pool_rows(template, bad=True))
    (tmp / "good.xlsx").write_bytes(pool_rows(template, bad=False))

    rows = page.locator("table.experts tbody tr")
    before = rows.count()
    page.get_by_label("专家库文件（.xlsx）").set_input_files(str(tmp / "bad.xlsx"))
    page.get_by_role("button", name="导入").click()
    expect(page.locator(".row-problems")).to_contain_text(
        "第 4 行 · 手机：手机号应为 11 位数字，以 1 开头"
    )
    expect(rows).to_have_count(before)
    looks_right(page, "pool-refused")
    page.get_by_label("专家库文件（.xlsx）").set_input_files(str(tmp / "good.xlsx"))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("status")).to_contain_text("已导入 8 位专家")
    expect(rows).to_have_count(before + 8)
    expect(rows.filter(has_text="导入评委08").locator(".expiring")).to_have_text("即将到期")
    expect(rows.filter(has_text="导入评委07").locator(".expiring")).to_have_count(0)
    looks_right(page, "pool")

    for n, kind, value in ((1, "recommending_unit", "pudong"), (2, "applicant", credit_code(900))):
        pages.navigate(page, "评审", "评审专家库")
        page.get_by_role("link", name=f"导入评委{n:02d}").click()
        page.get_by_label("回避对象类别").select_option(kind)
        page.get_by_label("回避对象（信用代码、推荐单位代码或成果编号）").fill(value)
        page.get_by_role("button", name="登记回避").click()
        expect(page.locator("#e-reason")).to_have_text("请说明回避理由")
        page.get_by_label("回避理由").fill("曾在该单位兼职")
        page.get_by_role("button", name="登记回避").click()
        expect(page.get_by_role("status")).to_have_text("已登记回避。")
        expect(page.locator("#conflicts-h + ul")).to_contain_text(value)
    looks_right(page, "expert")
    pages.navigate(page, "评审", "评审专家库")
    expect(rows.filter(has_text="导入评委01")).to_contain_text("推荐单位（代码）：浦东新区 pudong")
    expect(rows.filter(has_text="导入评委02")).to_contain_text(credit_code(900))


def test_the_secretariat_reviews_formally_plans_the_review_and_imports_its_pool(
    site: Site, page: Page, playwright_browser: Browser, tmp_path: Path
) -> None:
    world = six_recommended_results(site)
    sign_in(page, site)
    formal_review(page, world)
    review_plan(page)
    expert_pool(page, tmp_path)
