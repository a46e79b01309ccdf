"""The recommending unit's channel over the test client: what was filed under the unit with its
filters and its files opened inline; the 推荐表's commands as plain form posts, each refusal
beside its field with the input kept and nothing stored; filed, read-only; and a 404 page on
every page of the unit for another unit and for an applicant."""

from __future__ import annotations

import io
import re
from typing import Any
from uuid import UUID

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.platform.exports import XLSX
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_submissions import ICBC, SAQ, Journey, campaign_2024, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
REVIEWER = {
    "reviewer.name": "周敏",
    "reviewer.work_unit": "上海电气集团股份有限公司",
    "reviewer.certificate_kind": "",
    "reviewer.certificate_number": "CAQ-QC-2019-0312",
    "reviewer.mobile": "13601234567",
}
SAIC = "91310000132260250X"
GOOD_EVALUATION = "问题分析透彻，对策有效；数据图表可再规范。"


async def page_session(client: Client, role: Role, scope: str) -> str:
    """An account signed in through the sign-in page (cookie); its CSRF token."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    found = TOKEN.search((await client.get("/saq/account")).text)
    assert found is not None
    return found.group(1)


async def filed_world(client: Client) -> tuple[Journey, list[str], str]:
    """Through the API: three results filed under 浦东新区 (two topic types), one under 徐汇区."""
    secretariat = await sign_in(client, "saq", Role.SECRETARIAT)
    opened = await client.post(
        f"{SAQ}/campaigns",
        json=campaign_2024(recommending_unit_quota=8, recommendations_per_applicant_max=2),
        headers=secretariat,
    )
    assert opened.status_code == 201, opened.text
    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, ICBC)
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "pudong")
    j = Journey(client, opened.json(), applicant, unit)
    ids = []
    for topic, kind in (
        ("降低柜面业务差错率", "problem_solving"),
        ("缩短客户等候时间", "innovative"),
        ("提高一次办结率", "problem_solving"),
    ):
        submission_id = await j.complete(qc_result(kind, topic_name=topic))
        assert (await j.submit(submission_id)).status_code == 200
        ids.append(submission_id)
    other = await sign_in(client, "saq", Role.APPLICANT_UNIT, SAIC)
    k = Journey(client, opened.json(), other, unit)
    elsewhere = await k.complete(
        {**qc_result(topic_name="徐汇的课题"), "recommending_unit": "xuhui"}
    )
    assert (await k.submit(elsewhere)).status_code == 200, (await k.submit(elsewhere)).text
    return j, ids, elsewhere


def beside(text: str, key: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(key)}-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


async def test_the_unit_filters_what_was_filed_under_it_and_opens_its_files(
    anonymous: Client,
) -> None:
    j, (first, second, _), elsewhere = await filed_world(anonymous)
    await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    home = await anonymous.get("/saq/recommending/")
    assert home.status_code == 200 and "推荐通道" in home.text
    base = f"/saq/recommending/pudong/campaigns/{j.campaign['id']}"
    listed = await anonymous.get(f"{base}/results")
    assert listed.status_code == 200
    assert listed.text.count('data-submission="') == 3 and elsewhere not in listed.text
    assert "降低柜面业务差错率" in listed.text and "尚未决定" in listed.text
    innovative = await anonymous.get(f"{base}/results", params={"topic_type": "innovative"})
    assert innovative.text.count('data-submission="') == 1 and second in innovative.text
    by_applicant = await anonymous.get(
        f"{base}/results", params={"credit_code": ICBC, "status": "submitted"}
    )
    assert by_applicant.text.count('data-submission="') == 3
    nobody = await anonymous.get(f"{base}/results", params={"credit_code": SAIC})
    assert "没有符合条件的成果" in nobody.text

    result = await anonymous.get(f"{base}/results/{first}")
    assert result.status_code == 200 and "report.pdf" in result.text
    links = re.findall(r'href="([^"]+/files/[0-9a-f]+)"', result.text)
    assert len(links) == 3
    opened = await anonymous.get(links[0])
    assert opened.status_code == 200
    assert opened.headers["content-disposition"].startswith("inline")
    assert opened.headers["content-type"].startswith("application/pdf")
    assert opened.content.startswith(b"%PDF")


async def test_the_form_is_filled_by_plain_posts_each_refusal_beside_its_field(
    anonymous: Client,
) -> None:
    j, (first, second, third), _ = await filed_world(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    form = f"/saq/recommending/pudong/campaigns/{j.campaign['id']}/form"
    ledger = anonymous.app.state.platform.tenants["saq"].ledger

    async def post(command: str, version: int | None = None, **body: Any) -> Any:
        found = ledger.find_recommendation(j.campaign["id"], "pudong")
        now = found.version if found else 0
        data = {"csrf_token": token, "version": str(now if version is None else version), **body}
        return await anonymous.post(f"{form}/{command}", data=data)

    page = await anonymous.get(form)
    assert page.status_code == 200
    assert "本单位已推荐 0/8" in page.text and "三、推荐声明" in page.text
    english = await anonymous.get(form, headers={"accept-language": "en"})
    assert "We have recommended 0/8" in english.text and "3. Declaration" in english.text
    await adds_its_roster(post, ledger, j)

    too_long = "评" * 301
    refused = await post(
        "add", submission_id=first, score="86", evaluation=too_long, reviewer="CAQ-QC-2019-0312"
    )
    assert refused.status_code == 422
    assert "成果评价限 300 字" in beside(refused.text, first, "evaluation")
    assert too_long in refused.text
    refused = await post("add", submission_id=first, score="八十", evaluation="好", reviewer="")
    assert "打分应为数字" in beside(refused.text, first, "score")
    refused = await post("add", submission_id=first, score="101", evaluation="好", reviewer="")
    assert "0 至 100" in beside(refused.text, first, "score")
    assert "评委名单" in beside(refused.text, first, "reviewer")
    for submission_id, score in ((first, "86"), (second, "91.5")):
        added = await post(
            "add",
            submission_id=submission_id,
            score=score,
            evaluation=GOOD_EVALUATION,
            reviewer="CAQ-QC-2019-0312",
        )
        assert added.status_code == 200, added.text
    shown = await anonymous.get(form)
    assert (
        "本单位已推荐 2/8" in shown.text
        and "中国工商银行股份有限公司上海市分行已推荐 2/2" in shown.text
    )
    over = await post(
        "add", submission_id=third, score="80", evaluation="好", reviewer="CAQ-QC-2019-0312"
    )
    assert "至多推荐 2 项" in beside(over.text, third, "submission_id")

    def ranked() -> list[str]:
        found = ledger.get_recommendation(j.campaign["id"], "pudong")
        return [str(e["submission_id"]) for e in found.entries]

    assert (await post("move", submission_id=second, direction="up")).status_code == 200
    assert ranked() == [second, first]
    edge = await post("move", submission_id=second, direction="up")
    assert edge.status_code == 422 and "已是第一位" in edge.text
    stale = await post("move", version=1, submission_id=first, direction="up")
    assert stale.status_code == 409 and ranked() == [second, first]
    anonymous_order = {"csrf_token": token, "order": [first, second], "version": ""}
    assert (await anonymous.post(f"{form}/order", data=anonymous_order)).status_code == 200
    assert ranked() == [first, second]
    revised = await post(
        "revise",
        submission_id=second,
        score="93",
        evaluation="创新点突出。",
        reviewer="CAQ-QC-2019-0312",
    )
    assert revised.status_code == 200 and ranked() == [first, second]
    declined = await post("decline", submission_id=third, reason="")
    assert "请说明不推荐的理由" in beside(declined.text, third, "reason")
    assert (await post("decline", submission_id=third, reason="课题与往年重复")).status_code == 200

    await files_then_is_returned(anonymous, j, post, form)


async def adds_its_roster(post: Any, ledger: Any, j: Journey) -> None:
    """A mobile number refused beside its field (input kept, nothing stored), then the member."""
    refused = await post("reviewers", **{**REVIEWER, "reviewer.mobile": "0213"})
    assert refused.status_code == 422
    assert "11 位数字" in beside(refused.text, "reviewers", "reviewer.mobile")
    assert 'value="上海电气集团股份有限公司"' in refused.text  # the input kept
    assert ledger.find_recommendation(j.campaign["id"], "pudong") is None  # nothing stored
    assert (await post("reviewers", **REVIEWER)).status_code == 200


async def files_then_is_returned(anonymous: Client, j: Journey, post: Any, form: str) -> None:
    """The declaration, the filing (read-only, who filed it), the exports; returned by the
    secretariat, the form shows its reason and may change again."""
    first = re.findall(r'id="entry-([0-9a-f-]+)"', (await anonymous.get(form)).text)[0]
    cookies = dict(anonymous.cookies)
    not_yet = await post("file")
    assert not_yet.status_code == 422 and "请先阅读并接受推荐声明" in not_yet.text
    unaccepted = await post("declaration", filled_by="陈静", phone="021-58881234")
    assert "请勾选接受推荐声明" in beside(unaccepted.text, "declaration", "accept")
    accepted = await post("declaration", accept="yes", filled_by="陈静", phone="021-58881234")
    assert accepted.status_code == 200
    filed = await post("file")
    assert filed.status_code == 200, filed.text
    assert "由 测试用户 报送" in filed.text and "现为只读" in filed.text
    assert "列入推荐目录" not in filed.text and "上移" not in filed.text
    assert "课题与往年重复" in (await anonymous.get(form.replace("/form", "/results"))).text
    frozen = await post("remove", submission_id=first)
    assert frozen.status_code == 409 and "需秘书处退回" in frozen.text
    workbook = await anonymous.get(f"{form}.xlsx")
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    csv = await anonymous.get(f"{form}.csv")
    assert "创新点突出。" in csv.content.decode("utf-8-sig")
    secretariat = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    anonymous.cookies.update(cookies)
    api = f"{SAQ}/campaigns/{j.campaign['id']}/units/pudong/recommendation/return"
    returned = await anonymous.post(api, json={"reason": "评价过于简略"}, headers=secretariat)
    assert returned.status_code == 200, returned.text
    shown = await anonymous.get(form)
    assert "秘书处已退回推荐表，退回原因：评价过于简略" in shown.text
    assert "列入推荐目录" in shown.text  # editable again


async def test_another_unit_and_an_applicant_get_a_404_page_on_every_page(
    anonymous: Client,
) -> None:
    j, (first, _, _), _ = await filed_world(anonymous)
    await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    base = f"/saq/recommending/pudong/campaigns/{j.campaign['id']}"
    result = await anonymous.get(f"{base}/results/{first}")
    file = re.findall(r'href="([^"]+/files/[0-9a-f]+)"', result.text)[0]
    pages = [
        f"{base}/results",
        f"{base}/results/{first}",
        file,
        f"{base}/form",
        f"{base}/form.xlsx",
        f"{base}/form.csv",
    ]
    for role, scope in ((Role.RECOMMENDING_UNIT, "xuhui"), (Role.APPLICANT_UNIT, ICBC)):
        anonymous.cookies.clear()
        token = await page_session(anonymous, role, scope)
        for url in pages:
            answered = await anonymous.get(url, headers={"accept": "text/html"})
            assert answered.status_code == 404, (role, url)
            assert "页面不存在" in answered.text, (role, url)
        for command in ("add", "reviewers", "file", "import"):
            posted = await anonymous.post(
                f"{base}/form/{command}", data={"csrf_token": token, "submission_id": first}
            )
            assert posted.status_code == 404, (role, command)
        own = f"/saq/recommending/{scope}/campaigns/{j.campaign['id']}/results/{first}"
        assert (await anonymous.get(own)).status_code == 404, role
    home = await anonymous.get("/saq/recommending/")
    assert home.status_code == 404  # the applicant has no unit


async def test_the_form_is_imported_from_its_edited_export_or_refused_with_each_row(
    anonymous: Client,
) -> None:
    j, (first, _, _), _ = await filed_world(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    form = f"/saq/recommending/pudong/campaigns/{j.campaign['id']}/form"
    await anonymous.post(f"{form}/reviewers", data={"csrf_token": token, **REVIEWER})
    book = openpyxl.load_workbook(io.BytesIO((await anonymous.get(f"{form}.xlsx")).content))
    sheet = book.active
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "排序")
    serial = ledger_serial(anonymous, first)
    sheet.insert_rows(header + 1, 2)
    for column, value in enumerate([1, "", "", "", 101, "周敏", serial], 1):
        sheet.cell(header + 1, column).value = value
    sheet.cell(header + 2, 1).value = "成果评价（优势/不足之处，限 300 字）"
    sheet.cell(header + 2, 2).value = GOOD_EVALUATION

    async def upload() -> Any:
        buffer = io.BytesIO()
        book.save(buffer)
        return await anonymous.post(
            f"{form}/import",
            data={"csrf_token": token},
            files={"file": ("推荐表.xlsx", buffer.getvalue(), XLSX)},
        )

    refused = await upload()
    assert refused.status_code == 422
    problems = re.search(r'id="e-import-file"[^>]*>(.*?)</div>', refused.text, re.S)
    assert problems is not None and f"第 {header + 1} 行：打分应在 0 至 100 之间" in problems.group(
        1
    )
    assert ledger_entries(anonymous, j) == []  # nothing stored
    sheet.cell(header + 1, 5).value = 88
    imported = await upload()
    assert imported.status_code == 200, imported.text
    assert ledger_entries(anonymous, j) == [first]
    nothing = await anonymous.post(f"{form}/import", data={"csrf_token": token})
    assert "请选择要上传的 .xlsx 文件" in nothing.text


def ledger_serial(client: Client, submission_id: str) -> str:
    ledger = client.app.state.platform.tenants["saq"].ledger
    return str(ledger.get_submission(UUID(submission_id)).serial)


def ledger_entries(client: Client, j: Journey) -> list[str]:
    ledger = client.app.state.platform.tenants["saq"].ledger
    found = ledger.find_recommendation(UUID(j.campaign["id"]), "pudong")
    return [str(e["submission_id"]) for e in found.entries] if found else []
