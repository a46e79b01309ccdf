"""Review exports laid out like the association's own tables: the review summary table of a round
(评审汇总表: every reviewer's total, the rule, what was dropped, the score) and the results list."""

from __future__ import annotations

from collections.abc import Mapping

from aggregates.campaign import Campaign
from aggregates.review_round import ReviewRound
from api.platform.exports import to_xlsx
from projections.review_board import ResultRow

AGGREGATION_NAMES_ZH = {
    "mean": "算术平均",
    "trimmed_mean": "去掉一个最高分和一个最低分后平均",
    "zscore": "按评委标准化（Z 分数）后平均",
}


def review_summary_rows(campaign: Campaign, review_round: ReviewRound) -> list[list[object]]:
    width = review_round.reviewers_per_submission
    rule = AGGREGATION_NAMES_ZH.get(review_round.aggregation, review_round.aggregation)
    rows: list[list[object]] = [
        [f"{campaign.title}{review_round.name_zh}评审汇总表"],
        [f"计分规则：{rule}；满分 {campaign.rules.score_max} 分"],
        [
            "序号",
            "申报编号",
            "单位名称",
            "成果名称",
            "推荐单位",
            *(f"评委{i}" for i in range(1, width + 1)),
            "得分",
            "说明",
        ],
    ]
    current = {sheet.sheet_id: sheet for sheet in review_round.current_sheets()}
    entrants = sorted(review_round.entrants.values(), key=lambda e: e["serial"])
    for i, entrant in enumerate(entrants, 1):
        key = str(entrant["submission_id"])
        result = review_round.results.get(key, {})
        totals: list[object] = []
        for reviewer in review_round.assignments.get(key, []):
            sheet_id = review_round.current.get(f"{key}/{reviewer}")
            sheet = current.get(sheet_id) if sheet_id else None
            name = reviewer if sheet is None else f"{reviewer}：{sheet.total}"
            totals.append(name)
        totals += [""] * (width - len(totals))
        dropped = "；".join(
            f"{review_round.sheets[s]['reviewer']} {review_round.sheets[s]['total']} {why}"
            for s, why in result.get("excluded", {}).items()
            if s in review_round.sheets
        )
        rows.append(
            [
                i,
                entrant["serial"],
                entrant["unit_name"],
                entrant["title"],
                entrant["recommending_unit"],
                *totals,
                result.get("score"),
                dropped,
            ]
        )
    return rows


def review_summary_xlsx(campaign: Campaign, review_round: ReviewRound) -> bytes:
    return to_xlsx(f"{review_round.name_zh}评审汇总表", review_summary_rows(campaign, review_round))


def results_rows(
    campaign: Campaign,
    results: list[ResultRow],
    grade_names: Mapping[str, str],
    unit_names: Mapping[str, str],
) -> list[list[object]]:
    rows: list[list[object]] = [
        [f"{campaign.title}评审结果"],
        [
            "名次",
            "申报编号",
            "单位名称",
            "小组名称",
            "课题名称",
            "推荐单位",
            "重点领域",
            "材料评审得分",
            "发表赛得分",
            "综合得分",
            "等级",
            "证书编号",
        ],
    ]
    for r in results:
        rows.append(
            [
                r.rank,
                r.serial,
                r.unit_name,
                r.group_name,
                r.topic,
                unit_names.get(r.recommending_unit, r.recommending_unit),
                r.domain or "",
                r.material,
                r.presentation,
                r.combined,
                grade_names.get(r.grade, "未获等级") if r.grade else "未获等级",
                r.certificate_code or "",
            ]
        )
    return rows


def results_xlsx(
    campaign: Campaign,
    results: list[ResultRow],
    grade_names: Mapping[str, str],
    unit_names: Mapping[str, str],
) -> bytes:
    return to_xlsx("评审结果", results_rows(campaign, results, grade_names, unit_names))
