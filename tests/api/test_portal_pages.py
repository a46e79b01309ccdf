"""The portal's pages over the test client: the sign-in form's refusals (beside the field, in
both languages, the lock-out with the time it ends), CSRF on forms, error pages."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.portal.rendering import STATIC
from projections.review_board import ResultRow
from tests.api.conftest import make_account
from tests.api.published_world import cheap_passwords

Client = AsyncTestClient[Any]

pytestmark = pytest.mark.tenants("saq")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in_form(client: Client) -> str:
    page = await client.get("/saq/sign-in")
    assert page.status_code == 200
    found = TOKEN.search(page.text)
    assert found is not None
    return found.group(1)


async def post_sign_in(client: Client, login: str, password: str, **headers: str) -> Any:
    token = await sign_in_form(client)
    body = {"login": login, "password": password, "csrf_token": token}
    return await client.post("/saq/sign-in", data=body, headers=headers, follow_redirects=False)


async def test_a_wrong_password_is_shown_beside_the_field_in_either_language(
    anonymous: Client,
) -> None:
    with cheap_passwords(anonymous, "saq"):
        login, _ = make_account(anonymous, "saq", Role.SECRETARIAT)
        refused = await post_sign_in(anonymous, login, "wrong-password-1")
        english = await post_sign_in(
            anonymous, login, "wrong-password-2", **{"accept-language": "en-GB,en"}
        )
    assert refused.status_code == 401
    assert re.search(r'id="e-password">登录名或密码不正确<', refused.text)
    assert f'value="{login}"' in refused.text and "wrong-password" not in refused.text
    assert re.search(r'id="e-password">Wrong login name or password<', english.text)
    assert "qcflow_session" not in refused.cookies


async def test_a_locked_account_is_answered_as_a_wrong_password_with_the_rule(
    anonymous: Client,
) -> None:
    """Which login is locked, and until when, is not told (ADR 0020): the page states the rule."""
    with cheap_passwords(anonymous, "saq"):
        login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
        for attempt in range(5):
            await post_sign_in(anonymous, login, f"wrong-{attempt}")
        locked = await post_sign_in(anonymous, login, password)
    account = anonymous.app.state.platform.tenants["saq"].ledger.find_account(login)
    assert account is not None and account.is_locked(
        anonymous.app.state.platform.tenants["saq"].ledger.clock()
    )
    assert locked.status_code == 401
    assert re.search(r'id="e-password">登录名或密码不正确<', locked.text)
    assert "连续 5 次输错密码，账号将锁定 15 分钟" in locked.text
    assert "qcflow_session" not in locked.cookies


async def test_a_form_posted_without_its_token_stores_nothing(anonymous: Client) -> None:
    with cheap_passwords(anonymous, "saq"):
        login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
        await sign_in_form(anonymous)
        forged = await anonymous.post(
            "/saq/sign-in", data={"login": login, "password": password, "csrf_token": "forged"}
        )
    assert forged.status_code == 403 and "页面已过期，请重新提交" in forged.text
    assert "qcflow_session" not in forged.cookies


async def test_signing_out_needs_the_forms_token(anonymous: Client) -> None:
    with cheap_passwords(anonymous, "saq"):
        login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
        signed_in = await post_sign_in(anonymous, login, password)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/saq/"
    home = await anonymous.get("/saq/")
    assert "测试用户" in home.text and "秘书处" in home.text
    token = TOKEN.search(home.text)
    assert token is not None
    refused = await anonymous.post("/saq/sign-out", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "测试用户" in (await anonymous.get("/saq/")).text
    out = await anonymous.post(
        "/saq/sign-out", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert "测试用户" not in (await anonymous.get("/saq/")).text


async def test_an_unexpected_error_is_a_page_with_the_request_id(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the read model is broken")

    monkeypatch.setattr("api.portal.public.list_campaigns", broken)
    page = await anonymous.get("/saq/", headers={"x-request-id": "req-portal-500"})
    assert page.status_code == 500
    assert "req-portal-500" in page.text
    assert "Traceback" not in page.text and "the read model is broken" not in page.text


async def test_a_browser_gets_a_page_and_an_api_client_a_problem_for_no_such_path(
    anonymous: Client,
) -> None:
    page = await anonymous.get("/saq/no/such/page", headers={"accept": "text/html"})
    assert page.status_code == 404 and "页面不存在" in page.text
    problem = await anonymous.get("/api/v1/no/such/route", headers={"accept": "text/html"})
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")


def result_row(campaign_id: str, serial: str, status: str, grade: str | None) -> ResultRow:
    return ResultRow(
        campaign_id=campaign_id,
        submission_id=serial,
        serial=serial,
        unit_name=f"{serial}单位",
        group_name="QC小组",
        topic="提高一次合格率",
        recommending_unit="pudong",
        domain=None,
        material=Decimal(80),
        presentation=None,
        combined=Decimal(80),
        rank=1,
        grade=grade,
        status=status,
        certificate_code=None,
    )


async def test_the_public_notice_lists_the_graded_results_under_notice_only(
    client: Client, opened: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = opened["id"]
    rows = [
        result_row(campaign, "SAQ-2020-TG-0001", "public_notice", "excellent"),
        result_row(campaign, "SAQ-2020-TG-0002", "public_notice", None),
        result_row(campaign, "SAQ-2020-TG-0003", "graded", "benchmark"),
    ]
    monkeypatch.setattr("api.portal.public.campaign_results", lambda *args: rows)
    client.headers.clear()  # anyone, signed in or not
    page = await client.get(f"/saq/campaigns/{campaign}/public-notice")
    assert page.status_code == 200
    assert "SAQ-2020-TG-0001" in page.text and "优秀级" in page.text
    assert "SAQ-2020-TG-0002" not in page.text and "SAQ-2020-TG-0003" not in page.text
    results = await client.get(f"/saq/campaigns/{campaign}/results")
    assert "结果尚未发布" in results.text and "SAQ-2020-TG-0001" not in results.text
    monkeypatch.setattr("api.portal.public.campaign_results", lambda *args: rows[2:])
    nothing = await client.get(f"/saq/campaigns/{campaign}/public-notice")
    assert "目前没有正在公示的结果" in nothing.text and "SAQ-2020-TG-0003" not in nothing.text


async def test_the_notice_refreshes_its_countdown_alone(
    client: Client, opened: dict[str, Any], clock: Any
) -> None:
    """htmx asks for the countdown every minute: the fragment alone, in the reader's language."""
    campaign = opened["id"]
    clock.now = clock.now.replace(year=2020, month=7, day=25, hour=20, minute=30)
    client.headers.clear()
    notice = await client.get(f"/saq/campaigns/{campaign}")
    assert 'hx-get="/saq/campaigns/' in notice.text and 'hx-trigger="every 60s"' in notice.text
    assert "距成果申报截止还有 1 小时 30 分钟" in notice.text
    part = await client.get(
        f"/saq/campaigns/{campaign}/countdown",
        headers={"HX-Request": "true", "accept-language": "en"},
    )
    assert part.status_code == 200 and "<html" not in part.text
    assert "1 hour 30 minutes until the Submission deadline" in part.text


async def test_the_verification_page_escapes_what_was_typed_and_keeps_it(
    anonymous: Client,
) -> None:
    typed = '<script>alert(1)</script>" autofocus onfocus="x'
    page = await anonymous.get("/verify", params={"code": typed})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and '" autofocus' not in page.text
    assert "未找到编号为 &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'name="code" value="&lt;script&gt;' in page.text  # kept, to correct in place
    empty = await anonymous.get("/verify")
    assert empty.status_code == 200 and "未找到" not in empty.text and 'name="code"' in empty.text


async def test_a_page_names_its_static_files_by_content_and_the_browser_keeps_them(
    anonymous: Client,
) -> None:
    page = await anonymous.get("/saq/sign-in")
    addresses = re.findall(r'(?:src|href)="(/static/[^"]*)"', page.text)
    named = [re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", a) for a in addresses]
    assert all(named), addresses  # none without its digest
    files = {m.group(1): m.group(2) for m in named if m}
    assert set(files) == {"portal.css", "nav.js", "vendor/htmx-2.0.11/htmx.min.js"}
    for name, digest in files.items():
        content = (STATIC / name).read_bytes()
        assert hashlib.sha256(content).hexdigest().startswith(digest)
        served = await anonymous.get(f"/static/{name}?v={digest}")
        assert served.status_code == 200 and served.content == content
        directives = set(served.headers["cache-control"].split(", "))
        assert directives == {"public", "max-age=31536000", "immutable"}
