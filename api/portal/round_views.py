"""What the round pages show, shaped from the round (the ledger's) and the review board (the read
model): entrants with their reviewers and exclusions, progress and who is late, the matrix, the
recorded inputs of a score; and the reminder mailed to reviewers with sheets to file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from markupsafe import Markup, escape

from aggregates.account import AccountStatus
from aggregates.actor import Role
from aggregates.campaign import Window
from aggregates.review_round import PHASE_OF_KIND, ReviewRound, RoundNotFound
from api.accounts.routes import Auth
from api.portal import labels
from api.portal.i18n import Speaker
from api.review.schemas import MatrixOut
from projections.campaign_list import list_campaigns
from projections.review_board import reviewer_accounts
from projections.service import TenantViews

N_ = labels.N_
RULES = {
    "mean": N_("算术平均"),
    "trimmed_mean": N_("去掉一个最高分和一个最低分后平均"),
    "zscore": N_("按评委标准化（Z 分数）后平均"),
}
KINDS = {"material": N_("材料评审"), "presentation": N_("发表赛")}


def rule_name(speaker: Speaker, rule: str) -> str:
    base = rule.split(" ", 1)[0]
    return speaker.gettext(RULES[base]) if base in RULES else rule


def planned_rounds(views: TenantViews, speaker: Speaker) -> list[dict[str, Any]]:
    """Each campaign of the tenant with its planned rounds and where each stands."""
    ledger = views.runtime.ledger
    found = []
    for summary in list_campaigns(views.db("campaign_list")):
        campaign = ledger.get_campaign(UUID(summary.campaign_id))
        rounds = []
        for plan in campaign.review_plan.rounds:
            try:
                opened: ReviewRound | None = ledger.get_round(campaign.id, plan.code)
            except RoundNotFound:
                opened = None
            if opened is None:
                state = speaker.gettext("未开始")
            elif opened.closed:
                state = speaker.gettext("已结束")
            else:
                state = speaker.gettext("进行中")
            filed = len(opened.current) if opened else 0
            expected = sum(len(v) for v in opened.assignments.values()) if opened else 0
            rounds.append(
                {
                    "code": plan.code,
                    "name": plan.name_zh,
                    "kind": speaker.gettext(KINDS.get(plan.kind, plan.kind)),
                    "state": state,
                    "entrants": len(opened.entrants) if opened else None,
                    "filed": filed,
                    "expected": expected,
                    "href": f"/{views.runtime.tenant.code}/rounds/{campaign.id}/{plan.code}",
                }
            )
        if rounds:
            found.append({"title": campaign.title, "rounds": rounds})
    return found


def entrant_rows(
    review_round: ReviewRound, names: dict[str, str], units: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Per result: its reviewers (filed or not), those left out and why (a unit by its name,
    `units`), its score."""
    assigned_names = {**names, **review_round.reviewer_names()}
    rows = []
    for key, entrant in sorted(review_round.entrants.items(), key=lambda kv: kv[1]["serial"]):
        reviewers = [
            {
                "number": number,
                "name": assigned_names.get(number, ""),
                "filed": f"{key}/{number}" in review_round.current,
            }
            for number in review_round.assignments.get(key, [])
        ]
        excluded = [
            {
                "number": number,
                "name": assigned_names.get(number, ""),
                "reason": labels.units_named(reason, units),
            }
            for number, reason in sorted(review_round.exclusions.get(key, {}).items())
        ]
        result = review_round.results.get(key)
        rows.append(
            {
                "submission_id": key,
                "serial": entrant["serial"],
                "title": entrant["title"],
                "unit_name": entrant["unit_name"],
                "recommending_unit": entrant["recommending_unit"],
                "reviewers": reviewers,
                "excluded": excluded,
                "filed": sum(1 for r in reviewers if r["filed"]),
                "score": result["score"] if result else None,
            }
        )
    return rows


def progress(
    review_round: ReviewRound, window: Window | None, now: datetime, names: dict[str, str]
) -> dict[str, Any]:
    """Per reviewer: assigned, filed, still to file, and late once the window has closed."""
    assigned_names = {**names, **review_round.reviewer_names()}
    load: dict[str, dict[str, Any]] = {}
    for key, numbers in review_round.assignments.items():
        for number in numbers:
            row = load.setdefault(
                number,
                {
                    "number": number,
                    "name": assigned_names.get(number, ""),
                    "assigned": 0,
                    "filed": 0,
                },
            )
            row["assigned"] += 1
            row["filed"] += 1 if f"{key}/{number}" in review_round.current else 0
    closed = window is not None and now >= window.closes_at
    reviewers = []
    for row in sorted(load.values(), key=lambda r: r["number"]):
        row["outstanding"] = row["assigned"] - row["filed"]
        row["late"] = closed and row["outstanding"] > 0
        reviewers.append(row)
    expected = sum(r["assigned"] for r in reviewers)
    filed = sum(r["filed"] for r in reviewers)
    return {
        "reviewers": reviewers,
        "expected": expected,
        "filed": filed,
        "outstanding": [r for r in reviewers if r["outstanding"]],
        "window_closed": closed,
    }


def remind_late(views: TenantViews, auth: Auth, review_round: ReviewRound) -> int:
    """A reminder through the outbox to every account of a reviewer with sheets to file (the
    account loaded: it decides whether it is active and still holds the grant). Answers how
    many mails were queued."""
    ledger = views.runtime.ledger
    tenant = views.runtime.tenant
    campaign = ledger.get_campaign(review_round.campaign_id)
    report = progress(
        review_round, campaign.timeline.get(PHASE_OF_KIND[review_round.kind]), auth.now, {}
    )
    db = views.db("review_board")
    page = f"{auth.settings.base_url}/{tenant.code}/reviewer/"
    sent = 0
    for row in report["outstanding"]:
        for account_id in reviewer_accounts(db, row["number"]):
            account = ledger.get_account(account_id)
            holds = any(
                g.role is Role.REVIEWER and g.scope == row["number"] for g in account.grants
            )
            if account.status is not AccountStatus.ACTIVE or not holds:
                continue
            body = (
                f"{account.name}，您好：\n\n{campaign.title}{review_round.name_zh}中，"
                f"分配给您的 {row['assigned']} 项成果尚有 {row['outstanding']} 份评分表未提交，"
                f"请尽快登录评审。\n\n我的评审：{page}\n\n{tenant.name_zh}"
            )
            subject = f"【{tenant.short_name_zh}】{review_round.name_zh}评分提醒"
            auth.store.queue_mail(account.login, subject, body, auth.now)
            sent += 1
    return sent


def matrix_view(matrix: MatrixOut, speaker: Speaker) -> dict[str, Any]:
    """The matrix as plain rows (serial, submission, score, cells), the cells of a row one Markup
    of a `<td>` per reviewer column: the reviewer's total, `更正×n` when they corrected their
    sheet, `代录` when the counted sheet is a paper one the secretariat entered; an empty cell
    where the reviewer is not assigned.

    The cells are written here, not in the template: through Jinja, a 400 × 12 round's 4,800
    cells were ~34,000 pieces, each passed up three generators (the block, the page, the base
    layout), a Markup apiece: the page's render took as long as a third of its query. Here a
    cell is one f-string, each reviewer's name escaped once; `rounds/matrix.html` shows where
    they go."""
    corrected = speaker.gettext("更正")  # as the template's _(): our catalog, not escaped
    proxy = speaker.gettext("代录")
    paper_sheet = Role.SECRETARIAT.value
    names: dict[str, str] = {}
    for row in matrix.rows:
        for c in row.cells:
            names.setdefault(c.reviewer, c.reviewer_name)
    column = {reviewer: i for i, reviewer in enumerate(matrix.reviewers)}
    escaped: dict[str, str] = {}
    empty = '<td class="empty"></td>'
    rows = []
    for row in matrix.rows:
        cells = [empty] * len(column)
        for c in row.cells:
            if not c.reviewer_name:
                continue  # no name to label the cell with: shown empty, as before
            label = escaped.get(c.reviewer_name)
            if label is None:
                label = escaped[c.reviewer_name] = str(escape(c.reviewer_name))
            total = "…" if c.total is None else str(c.total)  # digits and a point: no markup
            tags = (
                f' <span class="tag corrected">{corrected}×{c.corrections}</span>'
                if c.corrections
                else ""
            )
            if c.entered_by == paper_sheet:
                tags += f' <span class="tag proxy">{proxy}</span>'
            cells[column[c.reviewer]] = f'<td data-label="{label}" class="cell">{total}{tags}</td>'
        shown = Markup("".join(cells))  # noqa: S704 (each name escaped above)
        rows.append((row.serial, row.submission_id, row.score, shown))
    return {
        "reviewers": matrix.reviewers,
        "labels": [names.get(r, "") for r in matrix.reviewers],
        "rows": rows,
    }


def inputs_of(review_round: ReviewRound, submission_id: UUID, speaker: Speaker) -> dict[str, Any]:
    """A result's score with everything it was computed from, as recorded."""
    key = str(submission_id)
    entrant = review_round.entrant(submission_id)
    result = review_round.results.get(key)
    names = review_round.reviewer_names()
    counted = set(result["counted"]) if result else set()
    excluded = result["excluded"] if result else {}
    current = set(review_round.current.values())
    sheets = []
    for sheet_id, sheet in review_round.sheets.items():
        if str(sheet["submission_id"]) != key:
            continue
        sheets.append(
            {
                **sheet,
                "sheet_id": sheet_id,
                "name": names.get(sheet["reviewer"], ""),
                "current": sheet_id in current,
                "counted": sheet_id in counted,
                "excluded": excluded.get(sheet_id, ""),
                "by_secretariat": sheet.get("entered_by") == Role.SECRETARIAT.value,
            }
        )
    return {
        "entrant": entrant,
        "result": result,
        "rule": rule_name(speaker, result["rule"]) if result else "",
        "sheets": sheets,
        "rubric": review_round.rubrics[entrant["rubric"]],
    }
