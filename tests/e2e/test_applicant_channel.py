"""The applicant's channel in Chromium: a verified applicant fills the 报名 form (one field
refused, then fixed), reads 我的申报 with results in different states, endorses one and
downloads the certificate of a published result; another's record is a 404 page."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tests.e2e.conftest import Site
from tests.e2e.pages import assert_accessible
from tests.e2e.test_formal_review import signed_in
from tests.support import new_password

pytestmark = pytest.mark.e2e

SAQ_2024_QC = "2024年上海市质量管理小组活动"
PDF = b"%PDF-1.4\n" + b"%" * 2000 + b"\n%%EOF\n"
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


def applicant(site: Site, credit_code: str) -> tuple[str, str]:
    """An active applicant account speaking for the enterprise (no claim pending)."""
    ledger = site.app.state.platform.tenants["saq"].ledger
    login, password = f"applicant-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name="王芳",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(Role.APPLICANT_UNIT, credit_code)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def qc_result(topic: str, topic_type: str, unit_name: str) -> dict[str, Any]:
    return {
        "recommending_unit": "pudong",
        "applicant": {"unit_name": unit_name, "key_domain": "市场服务", "key_industries": ["金融"]},
        "qc_result": {
            "group_name": "柜面服务质量改进QC小组",
            "group_size": 6,
            "topic_name": topic,
            "industry": "金融业",
            "topic_type": topic_type,
            "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
            "intro": "小组围绕柜面业务差错开展活动。" * 70,
            "commitments": [True, True, True, True],
        },
    }


def results_in_2024(site: Site, login: str, password: str, unit_name: str) -> dict[str, str]:
    """Through the API (the ledger's commands): a draft and a submitted result."""
    api = f"{site.url}/api/v1/tenants/saq"
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{api}/session", json={"login": login, "password": password})
        assert session.status_code == 201, session.text
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        campaigns = http.get(f"{api}/campaigns", headers=headers).json()
        campaign = next(c for c in campaigns if c["title"] == SAQ_2024_QC)
        made = {"campaign": campaign["id"]}
        for name, topic, kind in (
            ("draft", "提高柜面一次办结率", "problem_solving"),
            ("submitted", "缩短客户等候时间", "innovative"),
        ):
            drafted = http.post(
                f"{api}/campaigns/{campaign['id']}/submissions",
                json=qc_result(topic, kind, unit_name),
                headers=headers,
            )
            assert drafted.status_code == 201, drafted.text
            made[name] = drafted.json()["id"]
        for kind in ("application_form", "report", "evidence"):
            uploaded = http.post(
                f"{api}/submissions/{made['submitted']}/attachments/{kind}",
                params={"name": f"{kind}.pdf"},
                content=PDF + kind.encode(),
                headers={**headers, "content-type": "application/octet-stream"},
            )
            assert uploaded.status_code == 201, uploaded.text
        submitted = http.post(f"{api}/submissions/{made['submitted']}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        made["serial"] = submitted.json()["serial"]
    return made


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"papp-{name}-1280.png"), full_page=True)


def my_results(page: Page, published: dict[str, Any], made: dict[str, str]) -> None:
    """我的申报: each result where it stands, what is asked next and by when."""

    page.get_by_role("link", name="我的申报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    assert_accessible(page)
    shoot(page, "my-results")
    card = page.locator(f'[data-submission="{published["id"]}"]')
    expect(card.locator(".serial")).to_have_text(published["serial"])
    expect(card.locator('[aria-current="step"]')).to_have_text("已发布")
    expect(card.locator(".next")).to_have_text("下载证书")
    draft = page.locator(f'[data-submission="{made["draft"]}"]')
    expect(draft.locator('[aria-current="step"]')).to_have_text("草稿")
    expect(draft.locator(".next")).to_have_text("完成成果表并提交")
    expect(draft.locator(".due")).to_contain_text("2024年5月1日")
    expect(draft.locator(".due")).to_contain_text("还剩 2 天 3 小时")
    submitted = page.locator(f'[data-submission="{made["submitted"]}"]')
    expect(submitted.locator(".serial")).to_have_text(made["serial"])
    expect(submitted.locator('[aria-current="step"]')).to_have_text("已提交")
    expect(submitted.locator(".next")).to_contain_text("单位通道")


def register(page: Page, published: dict[str, Any]) -> str:
    """报名: one field refused beside it, fixed, saved."""
    section = page.locator("section.campaign-results", has_text=SAQ_2024_QC)
    section.get_by_role("link", name="报名", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("报名")
    assert_accessible(page)
    page.get_by_label("单位名称（以公章为准）").fill(published["unit_name"])
    page.get_by_role("radio", name="是", exact=True).check()
    page.get_by_role("radio", name="其他", exact=True).check()
    page.get_by_label("其他（请注明）").fill("股份制商业银行")
    page.get_by_role("checkbox", name="金融", exact=True).check()
    page.get_by_role("radio", name="市场服务", exact=True).check()
    page.get_by_label("通讯地址").fill("上海市浦东新区银城中路8号")
    page.get_by_label("邮编").fill("2001")
    page.get_by_label("活动归口管理部门").fill("运营管理部")
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("部门及职务").fill("运营管理部 经理")
    page.get_by_label("手机").fill("13800138000")
    page.get_by_label("电子邮箱").fill("wangfang@example.cn")
    page.get_by_role("checkbox", name="参加活动申报创新型课题").check()
    page.get_by_role("button", name="保存报名").click()
    expect(page.locator("#e-postcode")).to_have_text("邮编应为 6 位数字")
    expect(page.get_by_label("其他（请注明）")).to_have_value("股份制商业银行")
    shoot(page, "registration-refused")
    expect(page.get_by_role("checkbox", name="金融", exact=True)).to_be_checked()
    assert_accessible(page)
    page.get_by_label("邮编").fill("200120")
    page.get_by_role("button", name="保存报名").click()
    expect(page.get_by_role("status")).to_contain_text("报名已保存")
    expect(page.get_by_label("邮编")).to_have_value("200120")
    expect(page.get_by_role("radio", name="其他", exact=True)).to_be_checked()
    return page.url


def endorse(page: Page, site: Site, made: dict[str, str]) -> None:
    """The unit's endorsement of the submitted result."""
    page.goto(f"{site.url}/saq/applicant/results/{made['submitted']}")
    assert_accessible(page)
    page.get_by_label("自我评价").fill("课题选题合理，数据翔实。")
    page.get_by_label("推荐意见").fill("同意推荐。")
    page.get_by_label("评分（0 至 100）").fill("101")
    page.get_by_role("button", name="提交单位意见").click()
    expect(page.locator("#e-score")).to_contain_text("评分应在 0 至 100 之间")
    expect(page.get_by_label("自我评价")).to_have_value("课题选题合理，数据翔实。")
    page.get_by_label("评分（0 至 100）").fill("88")
    page.get_by_role("button", name="提交单位意见").click()
    expect(page.locator(".endorsement")).to_contain_text("同意推荐。")
    expect(page.locator('[aria-current="step"]')).to_have_text("单位已推荐")
    shoot(page, "endorsed")


def decisions(page: Page, site: Site, published: dict[str, Any]) -> None:
    """The published result's decisions and its certificate."""
    page.goto(f"{site.url}/saq/applicant/results/{published['id']}")
    expect(page.locator(".decision")).to_have_text("已推荐")
    expect(page.locator(".formal")).to_have_text("通过")
    expect(page.locator(".grade")).not_to_have_text("尚未公布")
    assert_accessible(page)
    expect(page.get_by_role("button", name="提交单位意见")).to_have_count(0)  # decided since
    shoot(page, "published")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载证书（PDF）").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")


def others_record(page: Page, site: Site, published: dict[str, Any]) -> None:
    """Another enterprise's result is a 404 page."""
    other = next(
        s for s in site.published.submissions if s["credit_code"] != published["credit_code"]
    )
    response = page.goto(f"{site.url}/saq/applicant/results/{other['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")


def on_a_phone(
    page: Page,
    site: Site,
    browser: Browser,
    registration_url: str,
    published: dict[str, Any],
    made: dict[str, str],
) -> None:
    """Every page of the channel at 390 px (signed in: the browser's cookies)."""
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone.add_cookies(page.context.cookies())
        tab = phone.new_page()
        for url in (
            f"{site.url}/saq/applicant/",
            registration_url.split("?", maxsplit=1)[0],
            f"{site.url}/saq/applicant/results/{made['submitted']}",
            f"{site.url}/saq/applicant/results/{published['id']}",
        ):
            tab.goto(url)
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{url}: {width} px wide at 390 px"
            assert_accessible(tab)
            if SHOTS:
                name = url.rstrip("/").rsplit("/", 1)[-1][:8]
                tab.screenshot(path=str(SHOTS / f"papp-{name}-390.png"), full_page=True)
    finally:
        phone.close()


def test_an_applicant_registers_follows_its_results_endorses_one_and_downloads_a_certificate(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    published = next(s for s in site.published.submissions if s["certificate_code"])
    login, password = applicant(site, published["credit_code"])
    made = results_in_2024(site, login, password, published["unit_name"])
    signed_in(page, site.url, login, password)
    page.goto(f"{site.url}/saq/")
    my_results(page, published, made)
    registration_url = register(page, published)
    endorse(page, site, made)
    decisions(page, site, published)
    others_record(page, site, published)
    on_a_phone(page, site, playwright_browser, registration_url, published, made)
