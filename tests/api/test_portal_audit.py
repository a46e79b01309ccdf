"""The auditor's desk in the browser, through the test client on SQLite and PostgreSQL: a
result found by its serial, its unit's name or its certificate code; its history, its state at a
moment (a bad or too early moment answered beside the field); the campaign's recomputation
intact, then a stored sheet altered behind the platform's back and the difference and the broken
link named on the pages; the package; the reader's own trail; and nobody else gets in."""

from __future__ import annotations

import re
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from aggregates.actor import Role
from aggregates.review_round import ReviewRound
from tests.api.published_world import ROUND, Client, Published, publish_campaign
from tests.api.test_portal_forms import signed_in
from tests.support import Clock
from tests.tamper import BehindTheBack

pytestmark = pytest.mark.tenants("saq")


async def _published(client: Client, clock: Clock) -> Published:
    return await publish_campaign(client, clock, "saq", units=("huangpu",), per_unit=2)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_an_auditor_finds_a_result_and_reads_its_history_state_and_recomputation(
    anonymous: Client, clock: Clock
) -> None:
    published = await _published(anonymous, clock)
    result = published.graded()[0]
    await signed_in(anonymous, Role.AUDITOR)

    for query in (result["serial"], result["serial"].lower(), result["certificate_code"]):
        desk = await anonymous.get("/saq/audit/", params={"q": query})
        assert desk.status_code == 200, desk.text
        assert f'/saq/audit/submission/{result["id"]}"' in desk.text, query
    by_name = await anonymous.get("/saq/audit/", params={"q": result["unit_name"][2:6]})
    assert f'/saq/audit/submission/{result["id"]}"' in by_name.text
    nothing = await anonymous.get("/saq/audit/", params={"q": "不存在的单位%_"})
    assert "没有找到" in nothing.text
    assert "<h1>审计</h1>" in nothing.text
    english = await anonymous.get("/saq/audit/", headers={"accept-language": "en"})
    assert "<h1>Audit</h1>" in english.text  # the pages' name, not the role's ("Auditor")
    assert '<a href="/saq/audit" aria-current="page">Audit</a>' in english.text  # the navigation

    base = f"/saq/audit/submission/{result['id']}"
    history = await anonymous.get(base)
    assert history.status_code == 200, history.text
    text = _text(history.text)
    assert "#1" in text and result["serial"] in text
    assert "审计包（PDF）" in text

    first = await anonymous.get(f"{base}/state", params={"version": "1"})
    assert first.status_code == 200
    assert "第 1 步之后的状态" in _text(first.text)
    now = await anonymous.get(f"{base}/state", params={"at": "2099-01-01T00:00"})
    assert now.status_code == 200
    assert result["serial"] in now.text
    early = await anonymous.get(f"{base}/state", params={"at": "2000-01-01 08:00"})
    assert early.status_code == 404
    assert "该时刻这条记录尚不存在" in early.text
    assert 'value="2000-01-01 08:00"' in early.text
    bad = await anonymous.get(f"{base}/state", params={"at": "昨天下午"})
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text and 'value="昨天下午"' in bad.text

    recomputed = await anonymous.get(f"/saq/audit/campaign/{published.campaign_id}/recomputation")
    assert recomputed.status_code == 200, recomputed.text
    assert "一致：" in recomputed.text and "不一致" not in recomputed.text
    chain = await anonymous.get("/saq/audit/chain")
    assert "完好：" in chain.text

    pdf = await anonymous.get(f"{base}/package.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    package = msgspec.json.decode((await anonymous.get(f"{base}/package.json")).content)
    assert package["record_id"] == result["id"]

    trail = _text((await anonymous.get("/saq/audit/reads")).text)
    for read in ("search", "history", "state", "recomputation", "chain", "package"):
        assert read in trail, read


async def test_an_altered_sheet_shows_as_a_difference_and_a_broken_link(
    anonymous: Client, clock: Clock
) -> None:
    published = await _published(anonymous, clock)
    await signed_in(anonymous, Role.AUDITOR)
    tenant = anonymous.app.state.platform.tenants["saq"]
    round_id = ReviewRound.create_id(UUID(published.campaign_id), ROUND)
    sheet = next(
        e for e in tenant.ledger.events.get(round_id) if isinstance(e, ReviewRound.SheetFiled)
    )
    db = BehindTheBack(tenant.location)
    state = msgspec.json.decode(db.state(round_id, sheet.originator_version))
    altered = str(Decimal(state["total"]["_data_"]) - 10)
    state["total"] = {"_type_": "decimal_str", "_data_": altered}
    db.rewrite(round_id, sheet.originator_version, msgspec.json.encode(state))
    place = db.position(round_id, sheet.originator_version)

    recomputed = await anonymous.get(f"/saq/audit/campaign/{published.campaign_id}/recomputation")
    text = _text(recomputed.text)
    assert "不一致：发现 1 处差异" in text
    assert "sheet_total" in text and altered in text
    chain = _text((await anonymous.get("/saq/audit/chain")).text)
    assert "已断开：" in chain
    assert f"{place} 存储后被改动" in chain

    kept = await anonymous.get("/saq/audit/chain", params={"expect": "12:xyz"})
    assert kept.status_code == 400
    assert "每行一个检查点" in kept.text and "12:xyz" in kept.text


@pytest.mark.parametrize("role", [Role.APPLICANT_UNIT, Role.RECOMMENDING_UNIT])
async def test_nobody_but_auditors_and_the_secretariat_opens_the_desk(
    anonymous: Client, role: Role
) -> None:
    scope = {Role.APPLICANT_UNIT: "91100000100003962T", Role.RECOMMENDING_UNIT: "huangpu"}
    await signed_in(anonymous, role, scope.get(role))
    for url in ("/saq/audit/", "/saq/audit/chain", "/saq/audit/reads"):
        refused = await anonymous.get(url)
        assert refused.status_code in (403, 404), (url, refused.status_code)
        assert "哈希链" not in refused.text
