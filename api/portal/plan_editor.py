"""The review plan editor (评审方案): the formal-review checklist, the rounds, the rubrics by topic
type, the contest's weight, grade bands by score or by rank and quotas per grade and per domain,
with the plan's effect written out in words. Repeating rows are added and removed by form posts
(no script needed); saving is the API's `planReview` command, its problems beside each field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, InvalidCampaign
from aggregates.problems import Problem
from aggregates.review_plan import AGGREGATIONS, GradeBand, ReviewPlan, RoundPlan
from api.platform.access import access, only
from api.portal.forms import FormPage, version_of
from api.portal.plan_words import (
    AGGREGATION_NAMES,
    KIND_NAMES,
    TOPIC_NAMES,
    effect,
    plan_in_english,
)
from api.portal.rendering import Page
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
ROW_LISTS = ("checklist", "rounds", "bands")


def plan_values(plan: ReviewPlan) -> dict[str, Any]:
    """The plan as the form's values (all text, as typed)."""
    return {
        "checklist": list(plan.checklist),
        "rounds": [
            {
                "code": r.code,
                "name_zh": r.name_zh,
                "kind": r.kind,
                "reviewers_per_submission": str(r.reviewers_per_submission),
                "aggregation": r.aggregation,
            }
            for r in plan.rounds
        ],
        "presentation_weight": str(plan.presentation_weight),
        "grading": plan.grading,
        "bands": [
            {
                "grade": b.grade,
                "min_score": "" if b.min_score is None else str(b.min_score),
                "quota": "" if b.quota is None else str(b.quota),
                "requires_presentation": b.requires_presentation,
                "requires_video": b.requires_video,
            }
            for b in plan.bands
        ],
        "domain_quotas": {
            d: {g: str(n) for g, n in quotas.items()} for d, quotas in plan.domain_quotas.items()
        },
        "rubrics": {
            topic: [{"name": n, "points": str(p)} for n, p in criteria.items()]
            for topic, criteria in plan.rubrics.items()
        },
    }


def posted_values(
    form: Any, topics: list[str], domains: list[str], grades: list[str]
) -> dict[str, Any]:
    """The form's values as posted (rows in their order; a row is kept even when blank)."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def rows(
        prefix: str, fields: tuple[str, ...], flags: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        found = []
        i = 0
        while f"{prefix}[{i}].{fields[0]}" in form:
            row: dict[str, Any] = {f: text(f"{prefix}[{i}].{f}") for f in fields}
            row |= {f: bool(form.get(f"{prefix}[{i}].{f}")) for f in flags}
            found.append(row)
            i += 1
        return found

    checklist = [v.strip() for v in form.getall("checklist", []) if isinstance(v, str)]
    return {
        "checklist": checklist,
        "rounds": rows(
            "rounds", ("code", "name_zh", "kind", "reviewers_per_submission", "aggregation")
        ),
        "presentation_weight": text("presentation_weight"),
        "grading": text("grading"),
        "bands": rows(
            "bands",
            ("grade", "min_score", "quota"),
            ("requires_presentation", "requires_video"),
        ),
        "domain_quotas": {d: {g: text(f"domain_quotas.{d}.{g}") for g in grades} for d in domains},
        "rubrics": {topic: rows(f"rubrics.{topic}", ("name", "points")) for topic in topics},
    }


def apply_action(values: dict[str, Any], action: str) -> bool:
    """Add or remove a repeating row (`add:rounds`, `remove:bands:1`, `add:rubrics:team`,
    `remove:rubrics:team:2`); False for any other action (save)."""
    parts = action.split(":")
    blank = {
        "checklist": "",
        "rounds": {
            "code": "",
            "name_zh": "",
            "kind": "material",
            "reviewers_per_submission": "3",
            "aggregation": "trimmed_mean",
        },
        "bands": {
            "grade": "",
            "min_score": "",
            "quota": "",
            "requires_presentation": False,
            "requires_video": False,
        },
    }
    if parts[0] == "add" and len(parts) == 2 and parts[1] in ROW_LISTS:
        values[parts[1]].append(blank[parts[1]])
        return True
    if parts[0] == "remove" and len(parts) == 3 and parts[1] in ROW_LISTS and parts[2].isdigit():
        index = int(parts[2])
        if index < len(values[parts[1]]):
            del values[parts[1]][index]
        return True
    if len(parts) >= 3 and parts[1] == "rubrics" and parts[2] in values["rubrics"]:
        criteria = values["rubrics"][parts[2]]
        if parts[0] == "add" and len(parts) == 3:
            criteria.append({"name": "", "points": ""})
        elif (
            parts[0] == "remove"
            and len(parts) == 4
            and parts[3].isdigit()
            and int(parts[3]) < len(criteria)
        ):
            del criteria[int(parts[3])]
        return True
    return False


def _int(value: str, field: str, problems: list[Problem]) -> int | None:
    if not value:
        return None
    if not value.lstrip("-").isdigit():
        problems.append(Problem(field, "integer", "应为整数"))
        return None
    return int(value)


def _decimal(value: str, field: str, problems: list[Problem]) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        problems.append(Problem(field, "number", "应为数字"))
        return None


def to_plan(values: dict[str, Any]) -> tuple[ReviewPlan, list[Problem]]:
    """The plan the values describe, and what in them is not even a number."""
    problems: list[Problem] = []
    rounds = tuple(
        RoundPlan(
            code=r["code"],
            name_zh=r["name_zh"],
            kind=r["kind"],
            reviewers_per_submission=_int(
                r["reviewers_per_submission"], f"rounds[{i}].reviewers_per_submission", problems
            )
            or 0,
            aggregation=r["aggregation"],
        )
        for i, r in enumerate(values["rounds"])
    )
    bands = tuple(
        GradeBand(
            grade=b["grade"],
            min_score=_decimal(b["min_score"], f"bands[{i}].min_score", problems),
            quota=_int(b["quota"], f"bands[{i}].quota", problems),
            requires_presentation=b["requires_presentation"],
            requires_video=b["requires_video"],
        )
        for i, b in enumerate(values["bands"])
    )
    domain_quotas: dict[str, dict[str, int]] = {}
    for domain, quotas in values["domain_quotas"].items():
        for grade, text in quotas.items():
            count = _int(text, f"domain_quotas.{domain}.{grade}", problems)
            if count is not None:
                domain_quotas.setdefault(domain, {})[grade] = count
    rubrics: dict[str, dict[str, int]] = {}
    for topic, criteria in values["rubrics"].items():
        rubric: dict[str, int] = {}
        for i, c in enumerate(criteria):
            points = _int(c["points"], f"rubrics.{topic}[{i}].points", problems)
            if not c["name"]:
                problems.append(Problem(f"rubrics.{topic}[{i}].name", "required", "不能为空"))
            elif c["name"] in rubric:
                problems.append(Problem(f"rubrics.{topic}[{i}].name", "unique", "评分项重复"))
            elif points is not None:
                rubric[c["name"]] = points
        rubrics[topic] = rubric
    weight = _decimal(values["presentation_weight"], "presentation_weight", problems)
    plan = ReviewPlan(
        checklist=tuple(values["checklist"]),
        rounds=rounds,
        presentation_weight=weight if weight is not None else Decimal(-1),
        grading=values["grading"],
        bands=bands,
        domain_quotas=domain_quotas,
        rubrics=rubrics,
    )
    return plan, problems


class PlanPages(Controller):
    path = "/{tenant:str}/review/{campaign_id:uuid}/plan"
    include_in_schema = False

    def _context(
        self, page: Page, runtime: TenantRuntime, campaign: Campaign, values: dict[str, Any]
    ) -> dict[str, Any]:
        speaker = page.speaker
        grades = runtime.tenant.programmes[campaign.programme].grades
        grade_names = {g.code: (g.name_en if speaker.english else g.name_zh) for g in grades}
        plan, _ = to_plan(values)
        sums = {
            topic: sum(int(c["points"]) for c in criteria if c["points"].isdigit())
            for topic, criteria in values["rubrics"].items()
        }
        return {
            "campaign": {"id": str(campaign.id), "title": campaign.title},
            "version": campaign.version,
            "score_max": campaign.rules.score_max,
            "grades": list(grade_names.items()),
            "domains": runtime.tenant.key_domains,
            "topics": {t: speaker.gettext(TOPIC_NAMES.get(t, t)) for t in values["rubrics"]},
            "sums": sums,
            "kinds": [(k, speaker.gettext(v)) for k, v in KIND_NAMES.items()],
            "aggregations": [(a, speaker.gettext(AGGREGATION_NAMES[a])) for a in AGGREGATIONS],
            "effect": effect(speaker, plan, grade_names, campaign.rules.score_max),
        }

    def _start(self, runtime: TenantRuntime, campaign: Campaign) -> dict[str, Any]:
        values = plan_values(campaign.review_plan)
        if not values["bands"]:  # never planned: one band per grade of the tenant's scale
            grades = runtime.tenant.programmes[campaign.programme].grades
            values["bands"] = [
                {
                    "grade": g.code,
                    "min_score": "",
                    "quota": "",
                    "requires_presentation": False,
                    "requires_video": False,
                }
                for g in grades
            ]
        return values

    @get("/", operation_id="portalReviewPlan", sync_to_thread=True, opt=access(SECRETARIAT))
    def show(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        saved: Annotated[bool, QueryParameter()] = False,
    ) -> Template:
        """The plan in the editor as it stands (never planned: a band per grade of the scale)."""
        campaign = runtime.ledger.get_campaign(campaign_id)
        values = self._start(runtime, campaign)
        form = self._plan_page(runtime, campaign, values, saved)
        return form.show(request, runtime.tenant)

    def _plan_page(
        self,
        runtime: TenantRuntime,
        campaign: Campaign,
        values: dict[str, Any],
        saved: bool = False,
        **form: Any,
    ) -> FormPage:
        """The plan's editor showing `values` (`saved`: just saved), each problem of a refused
        plan beside its field (in English by the plan's own words)."""
        return FormPage(
            "review/plan.html",
            lambda page: {**self._context(page, runtime, campaign, values), "saved": saved},
            fields=plan_fields(values),
            values=values,
            on_refusal=lambda page, found: plan_in_english(page.speaker, found, campaign),
            **form,
        )

    @post("/", operation_id="portalPlanReview", opt=access(SECRETARIAT))
    async def save(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        """Saved at the version the page was read at, or a row added or removed (nothing saved)."""
        form = await request.form()
        return await sync_to_thread(self._save, request, campaign_id, runtime, actor, form)

    def _save(
        self,
        request: Request[Any, Any, Any],
        campaign_id: UUID,
        runtime: TenantRuntime,
        actor: Actor,
        form: Any,
    ) -> Template | Redirect:
        campaign = runtime.ledger.get_campaign(campaign_id)
        grades = runtime.tenant.programmes[campaign.programme].grades
        topics = list(campaign.review_plan.rubrics)
        values = posted_values(form, topics, runtime.tenant.key_domains, [g.code for g in grades])
        action = form.get("action") if isinstance(form.get("action"), str) else "save"
        if apply_action(values, str(action)):  # a row added or removed, nothing saved
            return self._plan_page(runtime, campaign, values).show(request, runtime.tenant)
        plan, unreadable = to_plan(values)

        def save() -> None:
            if unreadable:
                raise InvalidCampaign(*unreadable)
            expected = version_of(form.get("version"))
            runtime.ledger.plan_review(campaign_id, plan, {g.code for g in grades}, actor, expected)

        where = f"/{runtime.tenant.code}/review/{campaign_id}/plan?saved=true"
        return self._plan_page(runtime, campaign, values).run(request, runtime.tenant, save, where)


def plan_fields(values: dict[str, Any]) -> tuple[str, ...]:
    """Every field a problem may name, so that each is shown beside its own."""
    fields = ["checklist", "rounds", "presentation_weight", "grading", "bands", "plan"]
    for i, _ in enumerate(values["rounds"]):
        fields += [
            f"rounds[{i}]",
            *(
                f"rounds[{i}].{f}"
                for f in ("code", "name_zh", "kind", "reviewers_per_submission", "aggregation")
            ),
        ]
    for i, _ in enumerate(values["bands"]):
        fields += [f"bands[{i}].{f}" for f in ("grade", "min_score", "quota")]
    for domain, quotas in values["domain_quotas"].items():
        fields += [f"domain_quotas.{domain}.{g}" for g in quotas]
    for topic, criteria in values["rubrics"].items():
        fields.append(f"rubrics.{topic}")
        for i, _ in enumerate(criteria):
            fields += [f"rubrics.{topic}[{i}].name", f"rubrics.{topic}[{i}].points"]
    return tuple(fields)
