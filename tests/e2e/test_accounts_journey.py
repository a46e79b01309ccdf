"""Accounts in the browser (issue 18 §3), in Chromium: a newcomer registers an applicant unit
with its licence and letter, confirms the mailed code and sees its claim await verification;
the secretariat, in a second browser, opens the documents and verifies it; the applicant
invites a colleague, who accepts; a password is reset through the mailed code. Every page is
axe-clean and fits 390 px."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.platform.mail import delivered_mail
from tests.api.claims_support import LICENCE
from tests.e2e.conftest import Site
from tests.e2e.pages import DESKTOP, looks_right, navigate, sign_in
from tests.e2e.test_formal_review import signed_in
from tests.support import new_password

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
ICBC = "91100000100003962T"
ENTERPRISE = "中国工商银行股份有限公司上海市分行"


def png(width: int = 120, height: int = 80) -> bytes:
    """A real (blue) PNG: the sealed letter, photographed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x1d\x4f\x91" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def mailed_link(site: Site, login: str) -> str:
    """The path and code of the last mail's link (the mail folder is the mail server)."""
    site.app.state.mail.send_pending()
    mails = delivered_mail(site.app.state.settings, "saq", login)
    assert mails, f"no mail to {login}"
    found = re.search(r"(https?://\S+#code=\S+)", str(mails[-1].get_content()))
    assert found is not None
    link = urlsplit(found.group(1))
    return f"{site.url}{link.path}#{link.fragment}"


def new_context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport=DESKTOP, locale="zh-CN")


def registers(page: Page, site: Site, login: str, password: str) -> None:
    """A newcomer finds the association, registers its unit (the credit code refused as typed,
    then fixed) with its licence and letter, and confirms with the mailed link."""
    page.goto(site.url + "/")
    page.get_by_role("link", name="上海市质量协会").click()
    page.locator("header").get_by_role("link", name="登录").click()
    page.get_by_role("link", name="申报单位注册").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申报单位注册")
    looks_right(page, "pacc-register", SHOTS)

    page.get_by_label("登录名（邮箱）").fill(login)
    page.get_by_label("姓名").fill("李明")
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("再次输入密码").fill(password)
    page.get_by_label("单位名称（以公章为准）").fill(ENTERPRISE)
    code = page.get_by_label("统一社会信用代码")
    code.fill("91100000100003962A")  # one character mistyped
    check = page.locator("#credit-code-check")
    expect(check).to_contain_text("统一社会信用代码校验码应为 T，实际为 A")
    looks_right(page, "pacc-register-credit-code", SHOTS)
    code.fill(ICBC)
    expect(check).to_contain_text("统一社会信用代码校验通过")
    page.get_by_label("营业执照").set_input_files(
        files={"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": LICENCE}
    )
    page.get_by_label("加盖公章的授权委托书").set_input_files(
        files={"name": "授权委托书.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认注册")
    expect(page.locator(".notice")).to_contain_text("确认邮件已发出")
    looks_right(page, "pacc-confirm", SHOTS)

    page.goto(mailed_link(site, login))  # the mail's link: its code fills the field
    expect(page.get_by_label("确认码")).not_to_have_value("")
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("注册已确认")
    looks_right(page, "pacc-confirmed", SHOTS)


def the_secretariat_verifies(browser: Browser, site: Site, login: str) -> str:
    """In a second browser, the secretariat opens the claim's documents and verifies it.
    Answers the licence's address."""
    secretariat = new_context(browser)
    try:
        desk = secretariat.new_page()
        signed_in(desk, site.url, site.login, site.password)
        desk.goto(f"{site.url}/saq/")
        navigate(desk, "账号", "单位身份核验")
        card = desk.locator("article.claim", has_text=login)
        expect(card).to_contain_text(ICBC)
        letter = card.get_by_role("img", name=re.compile("授权委托书"))
        expect(letter).to_be_visible()
        loaded = (
            "image => image.complete ? image.naturalWidth : new Promise(done =>"
            " image.addEventListener('load', () => done(image.naturalWidth)))"
        )
        assert letter.evaluate(loaded) == 120  # shown, not broken
        looks_right(desk, "pacc-claims-queue", SHOTS)
        licence = card.get_by_role("link", name=re.compile("营业执照"))
        href = site.url + str(licence.get_attribute("href"))
        opened = secretariat.request.get(href)
        assert opened.status == 200 and opened.body() == LICENCE
        assert opened.headers["content-type"] == "application/pdf"
        assert opened.headers["content-disposition"].startswith("inline;")
        assert opened.headers["x-content-type-options"] == "nosniff"
        card.get_by_role("button", name="通过核验").click()
        expect(desk.locator(".notice")).to_contain_text("已通过核验")
        expect(desk.locator("article.claim", has_text=login)).to_have_count(0)
        return href
    finally:
        secretariat.close()


def the_colleague_accepts(browser: Browser, site: Site, colleague: str) -> None:
    invited = new_context(browser)
    try:
        other = invited.new_page()
        other.goto(mailed_link(site, colleague))
        expect(other.get_by_role("heading", level=1)).to_have_text("接受邀请")
        theirs = new_password()
        other.get_by_label("设置密码").fill(theirs)
        other.get_by_label("再次输入密码").fill(theirs + "!")
        other.get_by_role("button", name="接受邀请").click()
        expect(other.locator("#e-password_again")).to_have_text("两次输入的密码不一致")
        looks_right(other, "pacc-invitation-refused", SHOTS)
        other.get_by_label("设置密码").fill(theirs)
        other.get_by_label("再次输入密码").fill(theirs)
        other.get_by_role("button", name="接受邀请").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("账号已启用")
        sign_in(other, site.url, colleague, theirs)
        other.goto(site.url + "/saq/account")
        expect(other.locator("section.claim .state")).to_have_text("已核验")  # by the invitation
        expect(other.locator(".roles")).to_contain_text(ENTERPRISE)
    finally:
        invited.close()


def test_an_applicant_unit_registers_is_verified_and_invites_a_colleague(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    login, password = "liming@icbc.example.cn", new_password()
    registers(page, site, login, password)
    sign_in(page, site.url, login, password)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的账号").click()
    claim = page.locator("section.claim")
    expect(claim).to_contain_text(ENTERPRISE)
    expect(claim.locator(".state")).to_have_text("待核验")
    looks_right(page, "pacc-account-awaiting", SHOTS)

    licence = the_secretariat_verifies(playwright_browser, site, login)
    refused = page.context.request.get(licence)  # not the applicant's to open
    assert refused.status in (403, 404)
    page.reload()
    expect(page.locator("section.claim .state")).to_have_text("已核验")

    colleague = "wangfang@icbc.example.cn"
    page.get_by_label("同事的登录名（邮箱）").fill(colleague)
    page.get_by_label("同事的姓名").fill("王芳")
    page.get_by_role("button", name="发出邀请").click()
    expect(page.locator(".notice")).to_contain_text("邀请已发出")
    looks_right(page, "pacc-account-verified", SHOTS)
    the_colleague_accepts(playwright_browser, site, colleague)


def test_a_forgotten_password_is_reset_through_the_mailed_code(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    page.goto(site.url + "/saq/sign-in")
    page.get_by_role("link", name="忘记密码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("重置密码")
    looks_right(page, "pacc-reset", SHOTS)
    page.get_by_label("登录名（邮箱）").fill(site.login)
    page.get_by_role("button", name="发送确认码").click()
    expect(page.locator(".notice")).to_contain_text("如该登录名已注册，重置密码的邮件已发出")
    same = page.url
    page.go_back()
    page.get_by_label("登录名（邮箱）").fill("nobody-here@example.cn")
    page.get_by_role("button", name="发送确认码").click()
    assert page.url == same  # answered alike whatever the login

    page.goto(mailed_link(site, site.login))
    password = new_password()
    page.get_by_label("新密码").fill("password1")
    page.get_by_label("再次输入密码").fill("password1")
    page.get_by_role("button", name="设置新密码").click()
    expect(page.locator("#e-password")).to_contain_text("密码至少 10 位")
    expect(page.get_by_label("新密码")).to_have_value("")  # never shown again
    looks_right(page, "pacc-reset-refused", SHOTS)
    page.get_by_label("新密码").fill(password)
    page.get_by_label("再次输入密码").fill(password)
    page.get_by_role("button", name="设置新密码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("密码已重置")
    sign_in(page, site.url, site.login, password)
    site.password = password  # the module's other tests sign in with it
