"""The live presentation contest (发表赛) in the browser: the secretariat's control page (the
running order, who presents now with a countdown, next, paper sheets entered on a judge's behalf,
the scores released), each judge's phone page (the presentation on stage and the judge's own
sheet by the round's rubric), and the big screen for the projector (the running order, who has
scored, and the released scores with the highest and lowest dropped), updating itself by htmx
polling. Who is on stage lives on the round (`ReviewRound.PresenterCalled`, ADR 40); sheets are
filed with the same command as any sheet, and the score is the round's rule
(`ReviewRound.presentation_score`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.expert import ExpertNotFound
from aggregates.problems import Problem
from aggregates.review_round import ReviewRound, RoundNotFound
from api.platform.access import access, not_found, only
from api.platform.errors import RequestProblem
from api.platform.records import Records
from api.portal import labels
from api.portal.forms import FormPage, PostedFields, said, typed_fields
from api.portal.rendering import Page
from api.portal.reviewer import parse_criteria
from api.review.routes import fresh
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
JUDGE = only(Role.REVIEWER)
EITHER = only(Role.SECRETARIAT, Role.REVIEWER)
N_ = labels.N_
DEFAULT_MINUTES = 15
STOP_POLLING = 286
"""htmx swaps a 286 answer in and stops the element's polling."""
"""The countdown's length when the secretariat types none (a field of the control page)."""
DONE = {
    "called": N_("已请下一位上台。"),
    "released": N_("得分已公布到大屏。"),
    "paper": N_("纸质评分表已代评委录入。"),
    "filed": N_("评分表已提交。"),
}
EXCLUDED_WORDS = {"最高分，去掉": N_("最高分，去掉"), "最低分，去掉": N_("最低分，去掉")}


def contest_round(runtime: TenantRuntime, campaign_id: UUID, code: str) -> ReviewRound:
    """The contest round, or a 404 page (another tenant's campaign, a material round)."""
    runtime.ledger.get_campaign(campaign_id)
    found = runtime.ledger.get_round(campaign_id, code)
    if found.kind != "presentation":
        raise RoundNotFound()
    return found


def remaining_seconds(review_round: ReviewRound, now: datetime) -> int | None:
    stage = review_round.on_stage()
    if stage is None:
        return None
    used = (now - stage["at"]).total_seconds()
    return max(0, int(stage["seconds"] - used))


def clock_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def judge_names(runtime: TenantRuntime, numbers: list[str]) -> dict[str, str]:
    names = {}
    for number in numbers:
        try:
            names[number] = runtime.ledger.get_expert(number).name
        except ExpertNotFound:  # a judge no longer in the pool keeps their number
            names[number] = number
    return names


def stage_view(
    runtime: TenantRuntime, review_round: ReviewRound, now: datetime, *, with_scores: bool
) -> dict[str, Any]:
    """What the control page and the big screen show: the running order with each entrant's
    progress, who is on stage with the time left, its judges (who has scored) and, once released,
    every total with the ones dropped and the score. `with_scores` False: no judge's total."""
    stage = review_round.on_stage()
    current = stage["submission_id"] if stage else None
    released = set(review_round.released())
    order = []
    seen_current = current is None
    for i, entrant in enumerate(review_round.running_order(), start=1):
        key = str(entrant["submission_id"])
        judges = review_round.assignments[key]
        filed = [j for j in judges if f"{key}/{j}" in review_round.current]
        if key == current:
            state, seen_current = "on_stage", True
        else:
            state = "waiting" if seen_current else "done"
        score = review_round.presentation_score(key).score if key in released else None
        order.append(
            {
                "position": i,
                "id": key,
                "serial": entrant["serial"],
                "title": entrant["title"],
                "unit_name": entrant["unit_name"],
                "state": state,
                "filed": len(filed),
                "judges": len(judges),
                "released": key in released,
                "score": score,
            }
        )
    on_stage = next((o for o in order if o["id"] == current), None)
    panel: list[dict[str, Any]] = []
    result = None
    if on_stage is not None:
        numbers = sorted(review_round.assignments[on_stage["id"]])
        names = judge_names(runtime, numbers)
        show = with_scores and on_stage["released"]
        scored = review_round.presentation_score(on_stage["id"]) if show else None
        for seat, number in enumerate(numbers, start=1):
            sheet_id = review_round.current.get(f"{on_stage['id']}/{number}")
            sheet = review_round.sheets[sheet_id] if sheet_id else None
            panel.append(
                {
                    "seat": seat,
                    "number": number,
                    "name": names[number],
                    "filed": sheet is not None,
                    "paper": bool(sheet and sheet.get("entered_by") == Role.SECRETARIAT.value),
                    "total": sheet["total"] if sheet and show else None,
                    "dropped": (scored.excluded.get(sheet_id, "") if scored and sheet_id else ""),
                }
            )
        if scored is not None:
            result = {"score": scored.score, "rule": scored.rule}
    remaining = remaining_seconds(review_round, now)
    return {
        "order": order,
        "on_stage": on_stage,
        "panel": panel,
        "result": result,
        "remaining": remaining,
        "remaining_text": clock_text(remaining),
        "minutes": (stage["seconds"] // 60) if stage else DEFAULT_MINUTES,
        "next_id": str(review_round.after_on_stage() or ""),
        "closed": review_round.closed,
        "excluded_words": EXCLUDED_WORDS,
    }


def judge_number(records: Records, review_round: ReviewRound) -> str:
    """The judge's certificate number in this round: one of theirs assigned to any entrant, or
    a 404 page (a reviewer who is not a judge of the contest)."""
    mine = records.reviewer_numbers()
    judging = sorted(
        {n for numbers in review_round.assignments.values() for n in numbers if n in mine}
    )
    if not judging:
        raise not_found("round_code")
    return judging[0]


def _submission_id(typed: str) -> UUID:
    """The presentation the form names (not an id: 未找到, 404)."""
    try:
        return UUID(typed)
    except ValueError:
        raise not_found("submission_id") from None


def _done(runtime: TenantRuntime, campaign_id: UUID, round_code: str, done: str) -> str:
    return f"/{runtime.tenant.code}/contest/{campaign_id}/{round_code}?done={done}"


def rubric_of(review_round: ReviewRound, submission_id: str) -> dict[str, int]:
    return review_round.rubrics[review_round.entrants[submission_id]["rubric"]]


class ContestPages(Controller):
    path = "/{tenant:str}/contest"
    include_in_schema = False

    @get("/", operation_id="portalContestIndex", sync_to_thread=True, opt=access(EITHER))
    def index(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The contests opened: the secretariat's control and big screen; a judge's own page."""
        fresh(views)
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        judge = Role.REVIEWER in records.principal.roles and not records.sees_everything
        mine = records.reviewer_numbers() if judge else set()
        contests = []
        for c in list_campaigns(views.db("campaign_list")):
            campaign = runtime.ledger.get_campaign(UUID(c.campaign_id))
            for plan in campaign.review_plan.rounds:
                if plan.kind != "presentation":
                    continue
                try:
                    found = runtime.ledger.get_round(campaign.id, plan.code)
                except RoundNotFound:
                    continue
                if judge and not any(mine & set(numbers) for numbers in found.assignments.values()):
                    continue
                contests.append(
                    {
                        "campaign": campaign.title,
                        "name": found.name_zh,
                        "base": f"/{runtime.tenant.code}/contest/{campaign.id}/{plan.code}",
                        "closed": found.closed,
                        "entrants": len(found.entrants),
                    }
                )
        return page.render("contest/index.html", contests=contests, judge=judge)

    # The secretariat's control page.

    def _control(
        self, page: Page, runtime: TenantRuntime, review_round: ReviewRound, campaign_id: UUID
    ) -> dict[str, Any]:
        view = stage_view(runtime, review_round, page.now, with_scores=True)
        on_stage = view["on_stage"]
        rubric = rubric_of(review_round, on_stage["id"]) if on_stage else {}
        waiting_judges = [j for j in view["panel"] if not j["filed"]]
        return {
            **view,
            "round": review_round,
            "base": f"/{runtime.tenant.code}/contest/{campaign_id}/{review_round.code}",
            "campaign": runtime.ledger.get_campaign(campaign_id),
            "rubric": rubric,
            "rubric_top": sum(rubric.values()),
            "waiting_judges": waiting_judges,
        }

    @get(
        "/{campaign_id:uuid}/{round_code:str}",
        operation_id="portalContestControl",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def control(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """The contest's control page: the running order, who is on stage, next, paper sheets,
        release."""
        form = self._control_page(runtime, campaign_id, round_code, flag=done)
        return form.show(request, runtime.tenant)

    @get(
        "/{campaign_id:uuid}/{round_code:str}/order",
        operation_id="portalContestOrder",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def order(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The control page's running order and judges, refreshed by htmx."""
        review_round = contest_round(runtime, campaign_id, round_code)
        page = Page(request, runtime.tenant)
        return page.render(
            "contest/_control_live.html", **self._control(page, runtime, review_round, campaign_id)
        )

    def _control_page(
        self,
        runtime: TenantRuntime,
        campaign_id: UUID,
        round_code: str,
        flag: str = "",
        **form: Any,
    ) -> FormPage:
        """The control page (after the `flag` of what was done), where each of its forms is
        posted from (`form`: as `FormPage`'s)."""

        def context(page: Page) -> dict[str, Any]:
            review_round = contest_round(runtime, campaign_id, round_code)
            control = self._control(page, runtime, review_round, campaign_id)
            return {**control, "done": said(page, DONE, flag)}

        return FormPage("contest/control.html", context, **form)

    @post(
        "/{campaign_id:uuid}/{round_code:str}/call",
        operation_id="portalContestCall",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def call(
        self,
        request: Request[Any, Any, Any],
        data: PostedFields,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """The next presenter (or the one named) on stage, with the minutes typed."""
        values = typed_fields(data)

        def call() -> None:
            typed = values.get("minutes", "").strip() or str(DEFAULT_MINUTES)
            if not typed.isdigit():
                raise RequestProblem(422, Problem("minutes", "not_a_number", "应为整数分钟"))
            chosen = values.get("submission_id", "").strip()
            submission_id = _submission_id(chosen) if chosen else None
            runtime.ledger.call_presenter(
                campaign_id, round_code, submission_id, int(typed) * 60, actor
            )

        form = self._control_page(
            runtime, campaign_id, round_code, fields=("minutes",), values=values
        )
        return form.run(
            request, runtime.tenant, call, _done(runtime, campaign_id, round_code, "called")
        )

    @post(
        "/{campaign_id:uuid}/{round_code:str}/release",
        operation_id="portalContestRelease",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def release(
        self,
        request: Request[Any, Any, Any],
        data: PostedFields,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """The score of a presentation every judge has scored, on the big screen."""
        values = typed_fields(data)
        return self._control_page(runtime, campaign_id, round_code, values=values).run(
            request,
            runtime.tenant,
            lambda: runtime.ledger.release_scores(
                campaign_id, round_code, _submission_id(values.get("submission_id", "")), actor
            ),
            _done(runtime, campaign_id, round_code, "released"),
        )

    @post(
        "/{campaign_id:uuid}/{round_code:str}/paper",
        operation_id="portalContestPaperSheet",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def paper(
        self,
        request: Request[Any, Any, Any],
        data: PostedFields,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """A judge's paper sheet for the presentation on stage, entered by the secretariat (the
        sheet records the secretariat as who entered it)."""
        values = typed_fields(data)
        review_round = contest_round(runtime, campaign_id, round_code)
        stage = review_round.on_stage()
        if stage is None:
            raise RequestProblem(409, Problem("submission_id", "nobody_on_stage", "尚无人上台"))
        rubric = rubric_of(review_round, stage["submission_id"])

        def paper() -> None:
            reviewer = values.get("reviewer", "").strip()
            if not reviewer:
                raise RequestProblem(422, Problem("reviewer", "required", "请选择评委"))
            runtime.ledger.file_sheet(
                campaign_id,
                round_code,
                submission_id=UUID(stage["submission_id"]),
                reviewer=reviewer,
                criteria=parse_criteria(rubric, values),
                comment=values.get("comment", ""),
                corrects=None,
                reason="",
                actor=actor,
            )

        fields = ("reviewer", *(f"criteria.{name}" for name in rubric), "comment")
        form = self._control_page(runtime, campaign_id, round_code, fields=fields, values=values)
        return form.run(
            request, runtime.tenant, paper, _done(runtime, campaign_id, round_code, "paper")
        )

    # The big screen.

    def _screen(
        self, page: Page, runtime: TenantRuntime, review_round: ReviewRound, campaign_id: UUID
    ) -> dict[str, Any]:
        return {
            **stage_view(runtime, review_round, page.now, with_scores=True),
            "round": review_round,
            "campaign": runtime.ledger.get_campaign(campaign_id),
            "base": f"/{runtime.tenant.code}/contest/{campaign_id}/{review_round.code}",
        }

    @get(
        "/{campaign_id:uuid}/{round_code:str}/screen",
        operation_id="portalContestScreen",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def screen(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The big screen for the projector."""
        review_round = contest_round(runtime, campaign_id, round_code)
        page = Page(request, runtime.tenant)
        return page.render(
            "contest/screen.html", **self._screen(page, runtime, review_round, campaign_id)
        )

    @get(
        "/{campaign_id:uuid}/{round_code:str}/screen/live",
        operation_id="portalContestScreenLive",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def screen_live(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The big screen's changing part, fetched every second by htmx."""
        review_round = contest_round(runtime, campaign_id, round_code)
        page = Page(request, runtime.tenant)
        return page.render(
            "contest/_screen_live.html", **self._screen(page, runtime, review_round, campaign_id)
        )

    # The judge's phone page.

    def _judge(
        self,
        page: Page,
        runtime: TenantRuntime,
        records: Records,
        review_round: ReviewRound,
        campaign_id: UUID,
    ) -> dict[str, Any]:
        """Only the judge's own: the presentation on stage, their sheet of it, their own totals
        of the round; of the others, nothing (not even how many have filed)."""
        number = judge_number(records, review_round)
        stage = review_round.on_stage()
        on_stage = None
        assigned = False
        rubric: dict[str, int] = {}
        mine = None
        if stage is not None:
            key = stage["submission_id"]
            on_stage = {**review_round.entrants[key], "id": key}
            assigned = number in review_round.assignments[key]
            rubric = rubric_of(review_round, key)
            sheet_id = review_round.current.get(f"{key}/{number}")
            mine = review_round.sheets[sheet_id] if sheet_id else None
        own = []
        for entrant in review_round.running_order():
            sheet_id = review_round.current.get(f"{entrant['submission_id']}/{number}")
            if sheet_id:
                sheet = review_round.sheets[sheet_id]
                own.append(
                    {
                        "serial": entrant["serial"],
                        "title": entrant["title"],
                        "total": sheet["total"],
                        "paper": sheet.get("entered_by") == Role.SECRETARIAT.value,
                    }
                )
        remaining = remaining_seconds(review_round, page.now)
        return {
            "round": review_round,
            "campaign": runtime.ledger.get_campaign(campaign_id),
            "base": f"/{runtime.tenant.code}/contest/{campaign_id}/{review_round.code}",
            "number": number,
            "on_stage": on_stage,
            "assigned": assigned,
            "rubric": rubric,
            "rubric_top": sum(rubric.values()),
            "mine": mine,
            "own": own,
            "remaining": remaining,
            "remaining_text": clock_text(remaining),
            "changed": False,
        }

    @get(
        "/{campaign_id:uuid}/{round_code:str}/judge",
        operation_id="portalContestJudge",
        sync_to_thread=True,
        opt=access(JUDGE),
    )
    def judge(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """A judge's phone page: the presentation on stage and their own sheet of it."""
        review_round = contest_round(runtime, campaign_id, round_code)
        form = self._judge_page(runtime, records, review_round, campaign_id, flag=done)
        return form.show(request, runtime.tenant)

    def _judge_page(
        self,
        runtime: TenantRuntime,
        records: Records,
        review_round: ReviewRound,
        campaign_id: UUID,
        flag: str = "",
        **form: Any,
    ) -> FormPage:
        """The judge's page (after the `flag` of what was done), where their sheet is posted
        from (`form`: as `FormPage`'s)."""

        def context(page: Page) -> dict[str, Any]:
            judge = self._judge(page, runtime, records, review_round, campaign_id)
            return {**judge, "done": said(page, DONE, flag)}

        return FormPage("contest/judge.html", context, **form)

    @get(
        "/{campaign_id:uuid}/{round_code:str}/judge/stage",
        operation_id="portalContestJudgeStage",
        sync_to_thread=True,
        opt=access(JUDGE),
    )
    def judge_stage(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        shown: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Template:
        """Who is on stage now (fetched by htmx): when it is no longer the one whose sheet the
        page shows, a link to the new one (the form being typed is never replaced), answered
        with htmx's "stop polling" (286): the link stays where the judge reaches for it instead
        of being replaced every 2 s under their finger (the clock ticks on in the page)."""
        review_round = contest_round(runtime, campaign_id, round_code)
        page = Page(request, runtime.tenant)
        context = self._judge(page, runtime, records, review_round, campaign_id)
        current = context["on_stage"]["id"] if context["on_stage"] else ""
        context["changed"] = current != shown
        status = STOP_POLLING if context["changed"] else 200
        return page.render("contest/_judge_stage.html", status, **context)

    @post(
        "/{campaign_id:uuid}/{round_code:str}/judge",
        operation_id="portalContestJudgeFile",
        sync_to_thread=True,
        opt=access(JUDGE),
    )
    def judge_file(
        self,
        request: Request[Any, Any, Any],
        data: PostedFields,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """The judge's own sheet of the presentation named (the one on stage when the page was
        opened): the same command as any sheet."""
        values = typed_fields(data)
        review_round = contest_round(runtime, campaign_id, round_code)
        key = values.get("submission_id", "")
        if key not in review_round.entrants:
            raise not_found("submission_id")
        rubric = rubric_of(review_round, key)
        fields = (*(f"criteria.{name}" for name in rubric), "comment")
        form = self._judge_page(
            runtime, records, review_round, campaign_id, fields=fields, values=values
        )
        _, context = form.enter(request, runtime.tenant)
        runtime.ledger.file_sheet(
            campaign_id,
            round_code,
            submission_id=UUID(key),
            reviewer=context["number"],
            criteria=parse_criteria(rubric, values),
            comment=values.get("comment", ""),
            corrects=None,
            reason="",
            actor=actor,
        )
        here = f"/{runtime.tenant.code}/contest/{campaign_id}/{round_code}/judge"
        return Redirect(f"{here}?done=filed", status_code=303)
