"""The audit's recomputation of a campaign's review outcomes: every sheet total, stage score,
ranking and grade recomputed from the recorded score sheets and the rules, compared with what was
recorded and published. Pure: it reads events replayed from the ledger and lists differences."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from aggregates.audit_findings import (
    Decision,
    Difference,
    Findings,
    GradingCheck,
    Recomputation,
    RoundCheck,
)
from aggregates.grading import Grading, Standing, material_scores, rank_and_grade
from aggregates.review_plan import ReviewPlan
from aggregates.review_round import ReviewRound
from aggregates.scoring import Aggregate as ScoreAggregate
from aggregates.scoring import Sheet, aggregate, sheet_problems, total

ENTRY_ITEMS = {
    "material": "材料评审得分",
    "presentation": "发表赛得分",
    "combined": "综合得分",
    "rank": "名次",
}
"""What grading recorded of each result that the recomputation compares, besides its grade."""


StandingOf = Callable[[UUID, Decimal, Decimal | None], Standing]
"""A submission's standing with the given scores, from what grading read of the submission."""


def recompute(
    plan: ReviewPlan,
    rounds: Sequence[Sequence[object]],
    grading: Sequence[object],
    standing_of: StandingOf,
    grade_names: Mapping[str, str],
) -> Recomputation:
    """`rounds`: each opened round's events, in the plan's order; `grading`: the grading's events
    (none before grading)."""
    checks, differences, scores = [], [], []
    for events in rounds:
        check, found, recomputed = _check_round(events)
        checks.append(check)
        differences += found
        scores.append((check.kind, recomputed))
    graded, decisions, found = _check_grading(plan, scores, grading, standing_of, grade_names)
    return Recomputation(tuple(checks), graded, tuple(decisions), tuple(differences + found))


def _check_round(
    events: Sequence[object],
) -> tuple[RoundCheck, list[Difference], dict[str, Decimal | None]]:
    opened = next(e for e in events if isinstance(e, ReviewRound.Opened))
    entrants = {str(e["submission_id"]): e for e in opened.entrants}
    report = Findings(
        "round", opened.code, opened.name_zh, {k: e["serial"] for k, e in entrants.items()}
    )
    filed = [e for e in events if isinstance(e, ReviewRound.SheetFiled)]
    totals = {}
    for s in filed:
        key, sheet, whose = str(s.submission_id), str(s.sheet_id), f"评委 {s.reviewer} 的评分表"
        totals[sheet] = again = total(s.criteria)
        if again != s.total:
            what = f"{whose}总分记录为 {s.total}，按各项评分重算为 {again}"
            report.add(key, "sheet_total", s.total, again, what, sheet)
        rubric = opened.rubrics.get(entrants[key]["rubric"], {}) if key in entrants else {}
        for name, _, message in sheet_problems(rubric, s.criteria):
            criterion = name.removeprefix("criteria.")
            what = f"{whose}“{criterion}”一项不合评分标准：{message}"
            report.add(key, "criteria", s.criteria.get(criterion), None, what, sheet)
    aggregated = [i for i, e in enumerate(events) if isinstance(e, ReviewRound.ScoresAggregated)]
    scores: dict[str, Decimal | None] = {}
    counting: list[Sheet] = []
    if aggregated:
        # The last aggregation saw the sheets filed before it; later ones (an open round) wait.
        before = [e for e in events[: aggregated[-1]] if isinstance(e, ReviewRound.SheetFiled)]
        latest = {f"{s.submission_id}/{s.reviewer}": s for s in before}  # corrections come later
        counting = [
            Sheet(str(s.sheet_id), s.reviewer, str(s.submission_id), totals[str(s.sheet_id)])
            for s in latest.values()
        ]
        recorded = cast(ReviewRound.ScoresAggregated, events[aggregated[-1]]).results
        for key in _in_order(entrants.keys() | recorded.keys(), report.serials):
            result = aggregate(
                opened.aggregation, [s for s in counting if s.submission_id == key], counting
            )
            superseded = {
                str(s.sheet_id): "已被更正"
                for s in before
                if str(s.submission_id) == key and latest[f"{key}/{s.reviewer}"] is not s
            }
            scores[key] = result.score
            _compare_result(report, key, recorded.get(key), result, superseded | result.excluded)
    check = RoundCheck(
        opened.code,
        opened.name_zh,
        opened.kind,
        opened.aggregation,
        len(filed),
        len(counting),
        len(scores),
    )
    return check, report.found, scores


def _compare_result(
    report: Findings,
    key: str,
    recorded: Mapping[str, Any] | None,
    again: ScoreAggregate,
    excluded: Mapping[str, str],
) -> None:
    if recorded is None:
        what = f"汇总结果中没有该成果，按评分表重算得分为 {again.score}"
        report.add(key, "score", None, again.score, what)
        return
    if recorded["score"] != again.score:
        what = f"得分记录为 {recorded['score']}，按评分表重算为 {again.score}"
        report.add(key, "score", recorded["score"], again.score, what)
    counted, counts = set(recorded["counted"]), set(again.counted)
    if counted != counts:
        only, missed = _short(counted - counts), _short(counts - counted)
        what = f"计入的评分表与重算不符：仅记录中有 {only}，仅重算中有 {missed}"
        report.add(key, "counted", _ids(counted), _ids(counts), what)
    if recorded["excluded"] != excluded:
        what = f"去掉的评分表记录为 {_reasons(recorded['excluded'])}，重算为 {_reasons(excluded)}"
        report.add(key, "excluded", _ids(recorded["excluded"]), _ids(excluded), what)
    rule, rule_again = (
        f"{recorded['rule']} v{recorded['version']}",
        f"{again.rule} v{again.version}",
    )
    if rule != rule_again:
        report.add(key, "rule", rule, rule_again, f"汇总规则记录为 {rule}，重算所用为 {rule_again}")


def _check_grading(
    plan: ReviewPlan,
    rounds: Sequence[tuple[str, Mapping[str, Decimal | None]]],
    events: Sequence[object],
    standing_of: StandingOf,
    names: Mapping[str, str],
) -> tuple[GradingCheck | None, list[Decision], list[Difference]]:
    gradings = [i for i, e in enumerate(events) if isinstance(e, Grading.Graded | Grading.Regraded)]
    if not gradings:
        return None, [], []
    material = material_scores(rounds)
    contest = next((scores for kind, scores in rounds if kind == "presentation"), {})
    standings = [standing_of(UUID(k), m, contest.get(k)) for k, m in material.items()]
    entries = {str(e["submission_id"]): e for e in rank_and_grade(standings, plan, names)}
    graded = cast(Grading.Graded | Grading.Regraded, events[gradings[-1]])
    recorded = {str(e["submission_id"]): e for e in graded.entries}
    serials = {k: e["serial"] for k, e in (recorded | entries).items()}
    report = Findings("grading", None, "等级认定", serials)
    for key in _in_order(entries.keys() | recorded.keys(), serials):
        _compare_entry(report, key, recorded.get(key), entries.get(key), names)
    # The human decisions since the last grading, up to publication, lead to the published grades.
    issued = [i for i, e in enumerate(events) if isinstance(e, Grading.CertificatesIssued)]
    end = issued[0] + 1 if issued else len(events)
    path = {k: e["grade"] for k, e in entries.items()}
    decisions = [
        _decide(e, path, serials, names)
        for e in events[gradings[-1] + 1 : end]
        if isinstance(e, Grading.GradeOverridden)
        or (isinstance(e, Grading.ObjectionResolved) and e.grade_changed)
    ]
    if not issued:
        return GradingCheck(len(entries), len(decisions), False, 0), decisions, report.found
    published = _replayed(events[:end])
    report = Findings("publication", None, "发布", serials, report.found)
    for key in _in_order(
        path.keys() | published.entries.keys() | published.certificates.keys(), serials
    ):
        _compare_published(report, key, path.get(key), published, names)
    check = GradingCheck(len(entries), len(decisions), True, len(published.certificates))
    return check, decisions, report.found


def _decide(
    e: Grading.GradeOverridden | Grading.ObjectionResolved,
    path: dict[str, str | None],
    serials: Mapping[str, str],
    names: Mapping[str, str],
) -> Decision:
    """The decision, taken on the path of grades (which it changes)."""
    key, overridden = str(e.submission_id), isinstance(e, Grading.GradeOverridden)
    serial, previous, path[key] = serials.get(key, key), path.get(key), e.grade
    told = "调整等级" if overridden else "异议成立，改变等级"
    change = f"由{_grade(names, previous)}改为{_grade(names, e.grade)}"
    return Decision(
        kind="override" if overridden else "objection",
        submission_id=key,
        serial=serial,
        previous=previous,
        grade=e.grade,
        reason=e.reason,
        actor_id=e.actor_id,
        actor_role=e.actor_role,
        at=e.timestamp,
        version=e.originator_version,
        what_zh=f"{told}：成果 {serial} {change}（{e.reason}）",
    )


def _compare_entry(
    report: Findings,
    key: str,
    recorded: Mapping[str, Any] | None,
    again: Mapping[str, Any] | None,
    names: Mapping[str, str],
) -> None:
    if recorded is None or again is None:
        rank = (recorded or again or {}).get("rank")
        what = f"在记录的评审结果中排第 {rank} 名，重算却没有材料评审得分"
        if recorded is None:
            what = f"不在记录的评审结果中，重算应排第 {rank} 名"
        report.add(key, "entry", rank if recorded else None, rank if again else None, what)
        return
    for item, label in ENTRY_ITEMS.items():
        if recorded[item] != again[item]:
            what = f"{label}记录为 {recorded[item]}，重算为 {again[item]}"
            report.add(key, item, recorded[item], again[item], what)
    if recorded["grade"] != again["grade"]:
        was, now = _grade(names, recorded["grade"]), _grade(names, again["grade"])
        report.add(
            key,
            "grade",
            recorded["grade"],
            again["grade"],
            f"等级记录为{was}，按评审方案重算为{now}",
        )


def _compare_published(
    report: Findings, key: str, final: str | None, published: Grading, names: Mapping[str, str]
) -> None:
    shown = published.entries.get(key, {}).get("grade")
    if shown != final:
        what = f"发布的等级为{_grade(names, shown)}，按重算与记录的决定应为{_grade(names, final)}"
        report.add(key, "published_grade", shown, final, what)
    code = published.certificates.get(key)
    if final is not None and code is None:
        what = f"评为{_grade(names, final)}，发布时却没有证书"
        report.add(key, "certificate", None, "须颁发", what)
    elif final is None and code is not None:
        report.add(key, "certificate", code, None, f"没有等级，发布时却颁发了证书 {code}")


def _replayed(events: Iterable[object]) -> Grading:
    grading: Aggregate | None = None
    for event in events:
        if isinstance(event, Aggregate.Event):
            grading = event.mutate(grading)
    return cast(Grading, grading)


def _in_order(keys: Iterable[str], serials: Mapping[str, str]) -> list[str]:
    return sorted(keys, key=lambda k: (serials.get(k, ""), k))


def _grade(names: Mapping[str, str], grade: str | None) -> str:
    return f"“{names.get(grade, grade)}”" if grade is not None else "“无等级”"


def _ids(ids: Iterable[str]) -> str:
    return "、".join(sorted(ids))


def _short(ids: Iterable[str]) -> str:
    return "、".join(i[:8] for i in sorted(ids)) or "无"


def _reasons(excluded: Mapping[str, str]) -> str:
    return "、".join(f"{i[:8]}（{why}）" for i, why in sorted(excluded.items())) or "无"
