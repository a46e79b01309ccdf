"""A review plan told in words (两轮评审：…去掉最高分和最低分取平均…), in the reader's language:
what the secretariat's plan will do, shown beside the editor."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aggregates.campaign import Campaign
from aggregates.problems import Problem
from aggregates.review_plan import ReviewPlan
from api.portal.i18n import Speaker
from api.portal.labels import N_

TOPIC_NAMES = {
    "problem_solving": N_("问题解决型课题"),
    "innovative": N_("创新型课题"),
    "team": N_("质量信得过班组"),
    "presentation": N_("发表赛"),
}
KIND_NAMES = {"material": N_("材料评审"), "presentation": N_("现场发表")}
AGGREGATION_NAMES = {
    "mean": N_("取平均分"),
    "trimmed_mean": N_("去掉一个最高分和一个最低分后取平均"),
    "zscore": N_("按每位评委的评分尺度标准化后取平均"),
}
NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六"}


def _count(speaker: Speaker, n: int) -> str:
    return str(n) if speaker.english else NUMERALS.get(n, str(n))


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}"


def effect(
    speaker: Speaker, plan: ReviewPlan, grade_names: Mapping[str, str], score_max: int
) -> list[str]:
    """The plan's effect, one sentence per part."""
    gettext = speaker.gettext
    sep = "; " if speaker.english else "；"
    lines = []
    if plan.checklist:
        lines.append(
            gettext("形式审查逐项核对 %(n)s 项：%(items)s。")
            % {"n": len(plan.checklist), "items": sep.join(plan.checklist)}
        )
    rounds = [
        gettext("%(name)s（%(kind)s，每项成果 %(n)s 位评委，%(rule)s）")
        % {
            "name": r.name_zh or r.code,
            "kind": gettext(KIND_NAMES.get(r.kind, r.kind)),
            "n": r.reviewers_per_submission,
            "rule": gettext(AGGREGATION_NAMES.get(r.aggregation, r.aggregation)),
        }
        for r in plan.rounds
    ]
    if rounds:
        lines.append(
            gettext("%(count)s轮评审：%(rounds)s。")
            % {"count": _count(speaker, len(rounds)), "rounds": sep.join(rounds)}
        )
    if any(r.kind == "presentation" for r in plan.rounds) and 0 <= plan.presentation_weight <= 1:
        lines.append(
            gettext("综合成绩 = 材料评审成绩 × %(material)s%% + 发表赛成绩 × %(presentation)s%%。")
            % {
                "material": _percent(1 - plan.presentation_weight),
                "presentation": _percent(plan.presentation_weight),
            }
        )
    else:
        lines.append(gettext("没有发表赛：以材料评审成绩认定等级。"))
    lines.append(_grading(speaker, plan, grade_names))
    quotas = [
        gettext("%(domain)s领域%(grade)s最多 %(n)s 项")
        % {"domain": domain, "grade": grade_names.get(grade, grade), "n": n}
        for domain, by_grade in plan.domain_quotas.items()
        for grade, n in by_grade.items()
    ]
    if quotas:
        lines.append(gettext("各领域名额：%(quotas)s。") % {"quotas": sep.join(quotas)})
    rubrics = []
    for topic, criteria in plan.rubrics.items():
        total = sum(criteria.values())
        text = gettext("%(topic)s %(n)s 项共 %(sum)s 分") % {
            "topic": gettext(TOPIC_NAMES.get(topic, topic)),
            "n": len(criteria),
            "sum": total,
        }
        if total != score_max:
            text += gettext("（须为 %(max)s 分）") % {"max": score_max}
        rubrics.append(text)
    if rubrics:
        lines.append(gettext("评分标准：%(rubrics)s。") % {"rubrics": sep.join(rubrics)})
    return lines


def _grading(speaker: Speaker, plan: ReviewPlan, grade_names: Mapping[str, str]) -> str:
    gettext = speaker.gettext
    sep = "; " if speaker.english else "；"
    parts = []
    ranked = 0
    for band in plan.bands:
        name = grade_names.get(band.grade, band.grade)
        if plan.grading == "rank":
            if band.quota is None:
                part = gettext("%(grade)s：其余名次") % {"grade": name}
            else:
                part = gettext("%(grade)s：第 %(first)s 至 %(last)s 名") % {
                    "grade": name,
                    "first": ranked + 1,
                    "last": ranked + band.quota,
                }
                ranked += band.quota
        else:
            part = gettext("%(grade)s：%(score)s 分及以上") % {
                "grade": name,
                "score": "?" if band.min_score is None else f"{band.min_score.normalize():f}",
            }
            if band.quota is not None:
                part += gettext("（最多 %(n)s 项）") % {"n": band.quota}
        needs = [
            gettext(text)
            for flag, text in (
                (band.requires_presentation, N_("须参加发表赛")),
                (band.requires_video, N_("须有发表视频")),
            )
            if flag
        ]
        if needs:
            part += (", " + ", ".join(needs)) if speaker.english else ("，" + "、".join(needs))
        parts.append(part)
    way = gettext("按名次认定等级") if plan.grading == "rank" else gettext("按分数段认定等级")
    return f"{way}：{sep.join(parts)}。" if not speaker.english else f"{way}: {sep.join(parts)}."


def plan_in_english(
    speaker: Speaker, problems: tuple[Problem, ...], campaign: Campaign
) -> dict[str, Any]:
    """English of the plan's refusals whose Chinese carries a value (the top score)."""
    if not speaker.english:
        return {}
    words = {
        "sum": speaker.gettext("各项分值之和须为满分 %(max)s") % {"max": campaign.rules.score_max},
    }
    return {"messages": {p.rule: words[p.rule] for p in problems if p.rule in words}}
