"""What every page must pass in the browser: axe-core with no serious or critical violation, and
no horizontal scrolling at 390 px wide; and the steps more than one journey takes (inviting and
accepting, the 推荐表, the 统计表 and 工作总结)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import openpyxl
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, Locator, Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.statistics_table import rate
from aggregates.work_summary import counted_characters
from api.platform.mail import delivered_mail
from api.portal.unit_report_forms import compose
from tests.support import new_password

if TYPE_CHECKING:
    from tests.e2e.conftest import Site

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

_SERIOUS = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations.filter(
    (v) => v.impact === "serious" || v.impact === "critical"
)"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands. axe is put into a
    document once, not once per check: its script is half a megabyte to send and parse, which
    was half of what a check of a small page cost (a page is checked at 1280 and at 390 px)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    violations: list[dict[str, Any]] = page.evaluate(_SERIOUS)
    return violations


@dataclass
class Audit:
    """Whether axe audits this test's pages (`audited`, tests/e2e/conftest.py)."""

    on: bool = True


AUDIT = Audit()
"""axe audits the pages of a journey's SQLite half (and of tests on no backend), not of its
PostgreSQL half. What it audits is the markup, which the templates render from the same read
models on both backends: the PostgreSQL half walks the same pages and asserts the same facts
and widths, without the audit's cost (a third to a half of Chromium's CPU in a journey)."""


def assert_accessible(page: Page) -> None:
    if not AUDIT.on:
        return
    found = serious_violations(page)
    assert not found, [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]


def assert_fits_a_phone(browser: Browser, urls: Iterable[str], shots: Path | None = None) -> None:
    """Each page, opened by a visitor who is not signed in: no horizontal scrolling at 390 px, and
    axe-clean there too; with `shots`, full-page screenshots at 390 and 1280 px are written there
    (QCFLOW_SCREENSHOTS, to look at the pages). One browser context per viewport, as one visitor
    going from page to page."""
    urls = list(urls)
    for viewport in (PHONE, DESKTOP) if shots else (PHONE,):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        try:
            page = context.new_page()
            for url in urls:
                page.goto(url)
                if viewport is PHONE:
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= PHONE["width"], f"{url}: {width} px wide at {PHONE['width']} px"
                    assert_accessible(page)
                if shots:
                    name = re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-")
                    page.screenshot(
                        path=str(shots / f"{name or 'home'}-{viewport['width']}.png"),
                        full_page=True,
                    )
        finally:
            context.close()


def looks_right(page: Page, name: str, shots: Path | None = None) -> None:
    """The page as it stands: axe-clean at 1280 px and at 390 px, where nothing scrolls
    sideways; with `shots`, screenshots of both there (QCFLOW_SCREENSHOTS, to look at)."""
    assert_accessible(page)
    if shots:
        page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url}: {width} px wide at 390 px"
        assert_accessible(page)
        if shots:
            page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    finally:
        page.set_viewport_size(DESKTOP)


def reload_until(page: Page, locator: Locator, text: str, timeout: float = 30) -> None:
    """What another tenant's process records arrives asynchronously: the page read again until
    `locator` shows `text`, bounded."""
    deadline = time.monotonic() + timeout
    while text not in " ".join(locator.all_inner_texts()):
        assert time.monotonic() < deadline, f"{page.url} never showed {text!r}"
        time.sleep(0.2)
        page.reload()


def sign_in(page: Page, url: str, login: str, password: str, tenant: str = "saq") -> None:
    """Through the sign-in page, as a person does; back on the tenant's home."""
    page.goto(f"{url}/{tenant}/sign-in")
    page.get_by_label("登录名（邮箱）").fill(login)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".who .person")).to_be_visible()


def navigate(page: Page, *names: str) -> None:
    """Through the main navigation, as a person does: 菜单 opened where it is folded (a phone),
    each group named opened, then the link named last: `navigate(page, "评审", "评审轮次")`."""
    nav = page.get_by_role("navigation", name="主导航")
    menu = nav.locator("details.menu > summary")
    # Whether 菜单 shows is the stylesheet's to say: a page just navigated to may not have it
    # applied yet, when 菜单 looks visible at any width (a journey once timed out clicking it).
    page.wait_for_load_state()
    if menu.count() and menu.is_visible() and nav.locator("details.menu[open]").count() == 0:
        menu.click()
    for group in names[:-1]:
        summary = nav.locator("li.group > details > summary").filter(
            has_text=re.compile(f"^{re.escape(group)}$")
        )
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()
    nav.get_by_role("link", name=names[-1], exact=True).click()


def invites(page: Page, login: str, name: str, unit: str) -> str:
    """The secretariat invites a recommending unit on 账号与邀请; the link the page shows (as
    mailed)."""
    page.get_by_label("登录名（电子邮箱）").fill(login)
    page.get_by_label("姓名").fill(name)
    page.get_by_label("角色").select_option(label="推荐单位")
    page.get_by_label("推荐单位", exact=True).select_option(label=unit)
    page.get_by_role("button", name="发出邀请").click()
    expect(page.locator(".invited")).to_contain_text(login)
    return str(page.locator("a.invitation-link").get_attribute("href"))


def accepts(browser: Browser, url: str, link: str) -> str:
    """In a browser context of its own, the invited person opens the link and sets a password
    (returned)."""
    parts = urlsplit(link)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        other = context.new_page()
        other.goto(f"{url}{parts.path}#{parts.fragment}")
        expect(other.get_by_label("确认码")).not_to_have_value("")
        password = new_password()
        other.get_by_label("设置密码").fill(password)
        other.get_by_label("再次输入密码").fill(password)
        other.get_by_role("button", name="接受邀请").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("账号已启用")
    finally:
        context.close()
    return password


# The recommending unit's 推荐表 (api/portal/recommending.py).

PDF = b"%PDF-1.4\n" + b"%" * 2000 + b"\n%%EOF\n"
ENTERPRISES = {
    "91100000100003962T": "中国工商银行股份有限公司上海市分行",
    "91310000132260250X": "上海汽车集团股份有限公司",
}
TOPICS = (("降低差错率", "problem_solving"), ("研制新型工装", "innovative"))
REVIEWER = ("周敏", "上海电气集团股份有限公司", "CAQ-QC-2019-0312", "13601234567")


def account(site: Site, role: Role, scope: str, name: str) -> tuple[str, str]:
    """An active account of the role, made in the ledger; its login and password."""
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


def file_results(
    site: Site,
    campaign_id: str,
    enterprises: dict[str, str] = ENTERPRISES,
    topics: tuple[tuple[str, str], ...] = TOPICS,
) -> dict[str, str]:
    """Through the API: one result of each topic of each enterprise filed under 浦东新区; their
    titles ("group：topic") by id, in the order filed."""
    api = f"{site.url}/api/v1/tenants/saq"
    titles = {}
    with httpx.Client(timeout=30) as http:
        for code, unit_name in enterprises.items():
            login, password = account(site, Role.APPLICANT_UNIT, code, "王芳")
            session = http.post(f"{api}/session", json={"login": login, "password": password})
            headers = {"Authorization": f"Bearer {session.json()['token']}"}
            for topic, kind in topics:
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
                    f"{api}/campaigns/{campaign_id}/submissions", json=body, headers=headers
                )
                assert drafted.status_code == 201, drafted.text
                submission_id = drafted.json()["id"]
                for file_kind in ("application_form", "report", "evidence"):
                    uploaded = http.post(
                        f"{api}/submissions/{submission_id}/attachments/{file_kind}",
                        params={"name": f"{file_kind}.pdf"},
                        content=PDF + file_kind.encode() + submission_id.encode(),
                        headers={**headers, "content-type": "application/octet-stream"},
                    )
                    assert uploaded.status_code == 201, uploaded.text
                submitted = http.post(f"{api}/submissions/{submission_id}/submit", headers=headers)
                assert submitted.status_code == 200, submitted.text
                titles[submission_id] = (
                    f"{body['qc_result']['group_name']}：{body['qc_result']['topic_name']}"
                )
    return titles


def adds_the_roster(page: Page) -> None:
    """The 推荐表's roster: one scoring reviewer."""
    roster = page.locator("form.reviewer-form")
    for label, value in zip(("姓名", "工作单位", "评委证书编号", "手机"), REVIEWER, strict=True):
        roster.get_by_label(label, exact=True).fill(value)
    roster.get_by_role("button", name="添加到评委名单").click()
    expect(page.locator("table.roster tbody tr")).to_have_count(1)


def ranks(page: Page) -> list[str]:
    return page.locator("ol.ranking li.entry").evaluate_all(
        "items => items.map(li => li.getAttribute('data-submission'))"
    )


def recommend(page: Page, n: int, submission_id: str, shots: Path | None = None) -> None:
    """Score (80 + n), reviewer and evaluation of one result; the first (n = 0) evaluation is
    one character too long, refused beside the field with the input kept, then cut to 300."""
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
        looks_right(page, "prec-form-refused", shots)
        card = page.locator(f"#candidate-{submission_id}")
        evaluation = card.get_by_label("成果评价（优势/不足之处，限 300 字）")
        expect(evaluation).to_have_value("评" * 301)  # the input kept
        evaluation.fill("评" * 300)
        expect(card.locator(".count")).to_contain_text("300/300")
    else:
        evaluation.fill(f"第 {n + 1} 项：选题合理，数据翔实；对策实施可再细化。")
    card.get_by_role("button", name="列入推荐目录").click()
    expect(page.locator(f"#entry-{submission_id}")).to_be_visible()


def reorders(page: Page, ids: list[str], titles: dict[str, str]) -> None:
    """Four recommended results ranked as recommended: the fourth dragged above the first, then
    the keyboard moves the third up one place."""
    assert ranks(page) == ids
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


def declares_and_files(page: Page, name: str, account: str | None = None) -> None:
    """The declaration accepted by `name`, the form filed: read-only, the account that filed it
    (`account`'s name, by default `name`)."""
    page.get_by_label("本单位已阅读并接受以上推荐声明").check()
    page.get_by_label("填表人").fill(name)
    page.get_by_label("电话").fill("021-58881234")
    page.get_by_role("button", name="接受推荐声明").click()
    expect(page.locator(".declared")).to_contain_text(name)
    page.get_by_role("button", name="报送推荐表").click()
    expect(page.locator(".notice.filed")).to_contain_text(f"由 {account or name} 报送")
    expect(page.get_by_role("button", name="列入推荐目录")).to_have_count(0)
    expect(page.locator("textarea")).to_have_count(0)


def downloaded_form(page: Page, path: Path) -> list[tuple[Any, ...]]:
    """The 推荐表's .xlsx in one click; its rows."""
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 .xlsx").click()
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


# The recommending unit's 统计表 and 工作总结 (api/portal/unit_reports.py).

GOOD, SAIC = "91100000100003962T", "91310000132260250X"
BAD = "91310000132260250Y"  # SAIC's with the wrong check character
FIGURES = {
    "职工总数": "12000",
    "历年来累计已登记注册 QC 小组数": "3500",
    "本年度已登记注册 QC 小组数": "420",
    "本年度注册参加 QC 小组人数": "3150",
    "本年度坚持活动的 QC 小组数": "400",
    "历年来累计 QC 小组创可计算的经济效益": "86500.5",
    "本年度 QC 小组创可计算的经济效益": "4210.75",
    "本年度取得成果的 QC 小组数": "315",
    "本年度企业对 QC 小组活动经费投入（培训、交流、书籍等费用）": "120",
    "本年度企业对 QC 小组活动奖励费用": "45.5",
    "取得中国质协评委证书人数": "18",
}
SECTIONS = (
    "本区全年组织质量管理小组活动，覆盖企业与班组。" * 60,
    "坚持标准宣贯，开展成果诊断与发表交流。" * 60,
    "部分企业参与面不够广，下一步将加强培训与辅导。" * 40,
)


def fill_the_table(page: Page, shots: Path | None = None) -> None:
    """The counts typed (the rates shown as typed), the codes pasted (a bad one flagged on its
    line), refused with the input kept, fixed and saved."""
    employees, participants = (
        page.get_by_label("职工总数", exact=True),
        page.get_by_label("本年度注册参加 QC 小组人数", exact=True),
    )
    for whole, part in ((32, 1), (3, 2), (0, 5)):  # a half rounds up; two thirds; no whole
        employees.fill(str(whole))
        participants.fill(str(part))
        shown = rate(part, whole)
        expect(page.locator("#rate-coverage")).to_have_text("—" if shown is None else str(shown))
    for label, value in FIGURES.items():
        page.get_by_label(label, exact=True).fill(value)
    expect(page.locator("#rate-coverage")).to_have_text("26.25")  # as typed, before saving
    expect(page.locator("#rate-result_rate")).to_have_text("75.00")
    page.get_by_label("发表评审").check()
    page.get_by_label("本期举办了发表会").check()
    page.get_by_label("发表会时间").fill("2024-04-18")
    page.get_by_label("发表会地点").fill("浦东新区质量大厦")
    page.locator("#f-enterprises").fill(f"{GOOD}\n{BAD}\n")
    expect(page.locator('li[data-line="2"]')).to_contain_text("校验码应为 X")
    expect(page.locator("#enterprise-count")).to_have_text("2")
    assert_accessible(page)
    page.get_by_role("button", name="保存统计表").click()
    expect(page.locator('li[data-line="2"]')).to_contain_text(BAD)  # refused, kept
    expect(page.get_by_label("职工总数", exact=True)).to_have_value("12000")
    if shots:
        page.screenshot(path=str(shots / "unit-statistics-refused-1280.png"), full_page=True)
    page.locator("#f-enterprises").fill(f"{GOOD}\n{SAIC}")
    expect(page.locator(".enterprise-check .ok")).to_be_visible()
    page.get_by_role("button", name="保存统计表").click()
    expect(page.locator("p.notice")).to_have_text("统计表已保存。")


def rates_match_the_api(url: str, page: Page, login: str, password: str) -> None:
    """The rates the 统计表 page shows are the JSON API's."""
    campaign_id = page.url.split("/campaigns/")[1].split("/")[0]
    api = f"{url}/api/v1/tenants/saq"
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{api}/session", json={"login": login, "password": password})
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        read = http.get(f"{api}/campaigns/{campaign_id}/units/pudong/statistics", headers=headers)
    rates = read.json()["rates"]
    for name in ("coverage", "result_rate", "activity_rate"):
        expect(page.locator(f"#rate-{name}")).to_have_text(rates[name])


def write_the_summary(page: Page) -> None:
    """From the 统计表, the 工作总结: its three sections, the live count the domain's."""
    page.get_by_role("link", name="工作总结").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作总结")
    for i, text in enumerate(SECTIONS):
        page.locator(f"#f-section{i}").fill(text)
    expected = counted_characters(compose(list(SECTIONS)))
    expect(page.locator("#summary-count")).to_have_text(f"已写 {expected} 字（至少 3000 字）")
    assert_accessible(page)
    page.get_by_role("button", name="保存工作总结").click()
    expect(page.locator("p.notice")).to_have_text("工作总结已保存。")


# The public notice (公示): an objection by a member of the public (api/portal/public.py).


def objects_in_public(
    browser: Browser,
    url: str,
    app: Any,
    tenant: str,
    campaign_id: str,
    entry: dict[str, Any],
    shots: Path | None = None,
) -> None:
    """A member of the public, on a phone, not signed in: the objection to a graded `entry` (as
    showGrading answers it) from the public notice page, the code read from the mail."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        other = context.new_page()
        other.goto(f"{url}/{tenant}/campaigns/{campaign_id}/public-notice")
        expect(other.locator("main")).to_contain_text(entry["topic"])
        other.get_by_role("link", name="提出异议").click()
        other.get_by_label("对哪项成果").select_option(value=entry["submission_id"])
        other.get_by_label("真实姓名").fill("赵六")
        other.get_by_label("电子邮箱（接收确认码）").fill(OBJECTOR)
        other.get_by_label("异议的事实和理由").fill("该成果的经济效益数据与企业年报不符。")
        other.set_viewport_size(DESKTOP)
        looks_right(other, "grading-public-objection", shots)
        other.get_by_role("button", name="发送确认码").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("输入确认码")
        app.state.mail.send_pending()
        (mail,) = delivered_mail(app.state.settings, tenant, OBJECTOR)
        found = re.search(r"确认码：(\S+)", str(mail.get_content()))
        assert found is not None
        other.get_by_label("邮件中的确认码").fill(found.group(1))
        looks_right(other, "grading-public-code", shots)
        other.get_by_role("button", name="确认并提交异议").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("异议已提交")
    finally:
        context.close()


OBJECTOR = "zhaoliu@example.cn"
