"""The Shandong season's people on their phones (tests/e2e/test_shandong_season.py): the four
reviewers of the initial review filing their sheets with save and next (the other four through
the ledger), the four judges of the contest with the big screen beside them; nothing sent to any
of them holds another reviewer's sheet."""

from __future__ import annotations

import re
from decimal import Decimal
from uuid import UUID

from playwright.sync_api import Browser, Page, expect

from aggregates.actor import Actor, Role
from tests.api.contest_world import criteria_for
from tests.e2e import pages
from tests.e2e.pages import PHONE, navigate
from tests.e2e.shandong import (
    CONTEST_BASE,
    JUDGES,
    OFFSETS,
    ON_PHONES,
    ON_PHONES_PRESENTATIONS,
    TENANT,
    Season,
    Watched,
    marker,
    sheet_criteria,
    trimmed,
)


def others_file(s: Season) -> None:
    """The four reviewers not on phones file through the ledger first, so their sheets exist
    while the others browse."""
    review_round = s.ledger.get_round(UUID(s.campaign_id), "initial")
    for key, numbers in review_round.assignments.items():
        for number in numbers:
            if number in ON_PHONES:
                continue
            s.ledger.file_sheet(
                UUID(s.campaign_id),
                "initial",
                submission_id=UUID(key),
                reviewer=number,
                criteria={k: Decimal(v) for k, v in sheet_criteria(s, key, number).items()},
                comment=marker(number, "initial"),
                corrects=None,
                reason="",
                actor=Actor(f"reviewer-{number}", Role.REVIEWER),
            )


def files_on_a_phone(browser: Browser, s: Season, number: str, *, first: bool) -> None:
    """A reviewer at 390 px: the queue, each assigned result's sheet by its rubric with the total
    as typed, save and next to the end; the first reviewer also opens a report, corrects a sheet
    with a reason and reads their filed sheets. Nothing sent to them holds another's sheet."""
    assignments = s.round("initial").assignments
    mine = sorted(
        (k for k, v in assignments.items() if number in v), key=lambda k: s.result(k)["serial"]
    )
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    watched = Watched(context)
    try:
        tab = context.new_page()
        pages.sign_in(tab, s.url, *s.accounts[number], tenant=TENANT)
        navigate(tab, "我的评审")
        expect(tab.locator(".progress-line").first).to_contain_text(f"已评 0/{len(mine)}")
        if first:
            s.looks_right(tab, "reviewer-queue")
        tab.get_by_role("link", name=s.result(mine[0])["serial"]).click()
        for position, key in enumerate(mine):
            expect(tab.locator(".progress-line")).to_contain_text(
                f"第 {position + 1} 项，共 {len(mine)} 项"
            )
            values = sheet_criteria(s, key, number)
            fields = tab.locator(".criterion input")
            expect(fields).to_have_count(len(values))
            for i, value in enumerate(values.values()):
                fields.nth(i).fill(value)
            typed = sum((Decimal(v) for v in values.values()), Decimal(0))
            expect(tab.locator("#sheet-total")).to_have_text(f"{typed.normalize():f}")
            tab.get_by_label("评语（选填）").fill(marker(number, "initial"))
            if first and position == 0:
                s.looks_right(tab, "reviewer-sheet")
            tab.get_by_role("button", name="保存并下一项").click()
        expect(tab.locator(".notice")).to_contain_text("均已评分")
        if first:
            corrects(tab, s, number, mine[0])
        tab.get_by_role("link", name="我已提交的评分表").click()
        expect(tab.locator("tbody tr")).to_have_count(len(mine))
        if first:
            s.looks_right(tab, "reviewer-sheets")
    finally:
        context.close()
    watched.holds_no_other_sheet(s, number, f"/reviewer/{s.campaign_id}/initial/", len(mine))


def corrects(tab: Page, s: Season, number: str, key: str) -> None:
    """The report a tap away (opened in a new tab); the first criterion lowered by a point, with
    the reason."""
    tab.goto(f"{s.url}/{TENANT}/reviewer/{s.campaign_id}/initial/{key}")
    tab.locator("details.result-details summary").click()
    with tab.context.expect_page() as opened:
        tab.get_by_role("link", name="成果报告：report.pdf").click()
    opened.value.close()
    first_field = tab.locator(".criterion input").first
    lowered = Decimal(next(iter(sheet_criteria(s, key, number).values()))) - 1
    first_field.fill(f"{lowered.normalize():f}")
    tab.get_by_label("更正原因").fill("选题一项看错了材料")
    tab.get_by_role("button", name="保存", exact=True).click()
    expect(tab.locator(".notice")).to_contain_text("更正已保存")
    expect(tab.get_by_text("更正原因：选题一项看错了材料")).to_be_visible()
    s.looks_right(tab, "reviewer-corrected")
    navigate(tab, "我的评审")


def judges_on_phones(page: Page, browser: Browser, s: Season, top: list[str]) -> None:
    """The secretariat calls each of the six in turn; four judges score the first two on
    phone-sized pages (the second opened from their stage as it changes); a second browser's big
    screen marks them and shows each released score (the trimmed mean) without a reload. Nothing
    sent to a judge holds another's sheet."""
    base = f"{s.url}/{TENANT}/contest/{s.campaign_id}/contest"
    navigate(page, "评审", "发表赛")
    s.looks_right(page, "contest")
    page.get_by_role("link", name="发表赛控制台").click()
    expect(page.locator("table.contest-order tbody tr")).to_have_count(6)
    page.get_by_label("每项发表时间（分钟）").fill("12")
    page.get_by_role("button", name="请第一位上台").click()
    expect(page.locator("p[role=status]")).to_have_text("已请下一位上台。")
    s.looks_right(page, "contest-control")

    screen_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    judges = [browser.new_context(viewport=PHONE, locale="zh-CN") for _ in JUDGES]
    watched = [Watched(context) for context in judges]
    try:
        screen = screen_context.new_page()
        pages.sign_in(screen, s.url, *s.accounts["secretariat"], tenant=TENANT)
        screen.goto(f"{base}/screen")
        screen.evaluate("window.seasonMark = 'first-load'")  # a reload would lose it
        expect(screen.locator(".contest-judge .mark")).to_have_text(["未评"] * 4)
        tabs = []
        for context, number in zip(judges, JUDGES, strict=True):
            tab = context.new_page()
            pages.sign_in(tab, s.url, *s.accounts[number], tenant=TENANT)
            tab.goto(f"{base}/judge")
            tabs.append(tab)
        order = [str(e["submission_id"]) for e in s.round("contest").running_order()]
        assert sorted(order) == sorted(top)
        shown = []
        for p, key in enumerate(order):
            shown.append(presents(page, screen, tabs, s, p, key))
            if p + 1 == ON_PHONES_PRESENTATIONS:  # the judges' part is over: no more polling
                for context in judges:
                    context.close()
        expect(screen.locator("td.contest-score")).to_have_text(shown)  # all released
        assert screen.evaluate("window.seasonMark") == "first-load"  # never reloaded
    finally:
        for context in (screen_context, *judges):
            context.close()
    for seen, number in zip(watched, JUDGES, strict=True):
        seen.holds_no_other_sheet(s, number, "/contest/judge", ON_PHONES_PRESENTATIONS)


def presents(page: Page, screen: Page, tabs: list[Page], s: Season, p: int, key: str) -> str:
    """The p-th presentation: called (after the first), scored by the four judges, released; the
    big screen follows. Its score as the screen shows it."""
    title = s.result(key)["title"]
    if p:
        page.get_by_role("button", name="下一位").click()
        expect(page.locator("p[role=status]")).to_have_text("已请下一位上台。")
    expect(screen.locator(".contest-title")).to_contain_text(title)
    totals = [CONTEST_BASE[p] + offset for offset in OFFSETS]
    for j, tab in enumerate(tabs):
        if p >= ON_PHONES_PRESENTATIONS:  # the judges' phones, faster: their own sheets as filed
            s.ledger.file_sheet(
                UUID(s.campaign_id),
                "contest",
                submission_id=UUID(key),
                reviewer=JUDGES[j],
                criteria={k: Decimal(v) for k, v in criteria_for(totals[j]).items()},
                comment=marker(JUDGES[j], "contest"),
                corrects=None,
                reason="",
                actor=Actor(f"reviewer-{JUDGES[j]}", Role.REVIEWER),
            )
            continue
        if p:  # the judge's stage follows by itself and offers the new sheet
            tab.get_by_role("link", name="已换下一位上台，点此打开评分表").click()
        judge_scores(tab, s, title, totals[j], JUDGES[j], look=p == 0 and j == 0)
        if p == 0:
            expect(screen.locator(f'[data-judge="{j + 1}"] .mark')).to_have_text("已评")
    expect(screen.locator(".contest-judge.filed")).to_have_count(4)
    expect(screen.locator(".contest-judge .total")).to_have_count(0)  # not before the release
    page.get_by_role("button", name="公布本项得分").click()
    expect(page.locator("p[role=status]")).to_have_text("得分已公布到大屏。")
    score = trimmed([Decimal(t) for t in totals])
    expect(screen.locator("[data-score]")).to_have_text(str(score))
    expect(screen.locator(".contest-judge.dropped")).to_have_count(2)
    assert s.round("contest").presentation_score(UUID(key)).score == score
    if p == 0:
        s.looks_right(screen, "screen")
    return str(score)


def judge_scores(tab: Page, s: Season, title: str, total: int, number: str, look: bool) -> None:
    expect(tab.locator("#h-sheet")).to_contain_text(title)
    for name, value in criteria_for(total).items():
        tab.get_by_label(re.compile(f"^{name}")).fill(value)
    expect(tab.locator("output[data-total]")).to_have_text(str(total))
    tab.get_by_label("评语（选填）").fill(marker(number, "contest"))
    if look:
        s.looks_right(tab, "judge")
    tab.get_by_role("button", name="提交评分表").click()
    expect(tab.locator("p[role=status]")).to_have_text("评分表已提交。")
    expect(tab.locator(".contest-mine")).to_contain_text(f"已评：合计 {total}.00 分")
