"""Rounds of expert review for the secretariat (评审轮次): a round's entrants shown before it is
opened; automatic assignment with each reviewer's load and, per result, who was left out and
why; assignment by hand refused with the conflict named; progress per reviewer and per result,
with a mailed reminder; paper sheets imported from the 评审汇总表 layout; the score matrix;
aggregation and close, and the recorded inputs of any score. The same ledger commands and read
models as `api/review/routes.py`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Response, Template

from aggregates.actor import Actor, Role
from aggregates.problems import DomainError, Problem
from aggregates.review_round import PHASE_OF_KIND, RoundNotFound
from api.accounts.routes import Auth
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.platform.exports import XLSX, download
from api.portal import labels
from api.portal.clock import written
from api.portal.forms import FormPage, PortalForm, Posted, refuse
from api.portal.i18n import Speaker
from api.portal.rendering import Page
from api.portal.round_views import (
    entrant_rows,
    inputs_of,
    matrix_view,
    planned_rounds,
    progress,
    remind_late,
    rule_name,
)
from api.review.routes import SHEET_FILE_MAX_BYTES, fresh, import_paper_sheets, round_matrix
from api.review.sheet_import import sheet_form_xlsx
from projections.review_board import list_experts
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
ROUND = "/{campaign_id:uuid}/{round_code:str}"
DONE = ("opened", "assigned", "aggregated", "closed", "reminded", "imported", "assigned_one")


class TopForm(PortalForm):
    top: str = ""


class AssignForm(PortalForm):
    submission_id: str = ""
    certificate_number: str = ""


def round_template(context: Mapping[str, Any]) -> str:
    """A round opened is its own page; before, the page that opens it."""
    return "rounds/round.html" if "round" in context else "rounds/open.html"


def _done(views: TenantViews, campaign_id: UUID, round_code: str, done: str) -> str:
    return f"/{views.runtime.tenant.code}/rounds/{campaign_id}/{round_code}?done={done}"


def _top(typed: str) -> int | None:
    """The top N of the rounds before, as typed (blank: every entrant by the plan's rule)."""
    if not typed.strip():
        return None
    if not typed.strip().isdigit() or int(typed) < 1:
        raise RequestProblem(422, Problem("top", "range", "请填写正整数"))
    return int(typed)


def round_context(
    page: Page, views: TenantViews, campaign_id: UUID, round_code: str, top: int | None
) -> dict[str, Any]:
    """The round's page when opened; else the entrants it would have, before confirming."""
    ledger = views.runtime.ledger
    campaign = ledger.get_campaign(campaign_id)
    round_plan = campaign.review_plan.round(round_code)
    if round_plan is None:
        raise RoundNotFound()
    units = {u.code: u.name_zh for u in views.runtime.tenant.recommending_units}
    common = {
        "campaign": campaign,
        "plan": round_plan,
        "base": f"/{views.runtime.tenant.code}/rounds/{campaign_id}/{round_code}",
        "import_problems": [],
        "done": "",
        "filed": 0,
        "unit_names": units,
    }
    try:
        review_round = ledger.get_round(campaign_id, round_code)
    except RoundNotFound:
        return {**common, **_preview(views, campaign, round_code, top)}
    fresh(views)
    experts = list_experts(views.db("review_board"))
    names = {e.certificate_number: e.name for e in experts}
    window = campaign.timeline.get(PHASE_OF_KIND[review_round.kind])
    return {
        **common,
        "round": review_round,
        "rule": rule_name(page.speaker, review_round.aggregation),
        "entrants": entrant_rows(review_round, names, units),
        "progress": progress(review_round, window, page.now, names),
        "pool": [e for e in experts if not e.retired],
        "deadline": written(window.closes_at, page.zone, page.speaker) if window else "",
    }


def _preview(views: TenantViews, campaign: Any, round_code: str, top: int | None) -> dict[str, Any]:
    try:
        _, entrants = views.runtime.ledger.round_entrants(campaign, round_code, None, top)
        refused: list[Problem] = []
    except DomainError as e:  # shown as why the round cannot open yet
        entrants, refused = [], list(e.problems)
    codes = [p.code for p in campaign.review_plan.rounds]
    return {
        "earlier": codes.index(round_code) > 0,
        "entrants": entrants,
        "refused": refused,
        "top": top,
    }


def round_page(
    views: TenantViews, campaign_id: UUID, round_code: str, top: int | None = None, **form: Any
) -> FormPage:
    """The round's page, where each of its forms is posted from (`form`: the fields, values
    and what else a refusal shows, as `FormPage`'s)."""
    return FormPage(
        round_template,
        lambda page: round_context(page, views, campaign_id, round_code, top),
        **form,
    )


RoundCommand = Callable[[TenantViews, UUID, str, Actor], object]


def _button(path: str, operation_id: str, done: str, command: RoundCommand) -> Any:
    """A button of the round's page: its ledger command; refused, the round's page with the
    refusal above it."""

    @post(
        f"{ROUND}/{path}", operation_id=operation_id, sync_to_thread=True, opt=access(SECRETARIAT)
    )
    def pressed(
        self: Any,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Posted[PortalForm],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        return round_page(views, campaign_id, round_code).run(
            request,
            views.runtime.tenant,
            lambda: command(views, campaign_id, round_code, actor),
            _done(views, campaign_id, round_code, done),
        )

    return pressed


def _assign_automatically(
    views: TenantViews, campaign_id: UUID, round_code: str, actor: Actor
) -> None:
    """Every active reviewer of the pool is the panel, as the API's default."""
    fresh(views)
    panel = [e.certificate_number for e in list_experts(views.db("review_board"))]
    views.runtime.ledger.assign_automatically(campaign_id, round_code, panel, actor)


def _aggregate(views: TenantViews, campaign_id: UUID, round_code: str, actor: Actor) -> None:
    """Each result's score by the round's rule, from the sheets filed."""
    views.runtime.ledger.aggregate_round(campaign_id, round_code, actor)


def _close(views: TenantViews, campaign_id: UUID, round_code: str, actor: Actor) -> None:
    """No sheet is filed or corrected once the round is closed."""
    views.runtime.ledger.close_round(campaign_id, round_code, actor)


class RoundPages(Controller):
    path = "/{tenant:str}/rounds"
    include_in_schema = False

    @get("/", operation_id="portalRounds", sync_to_thread=True, opt=access(READERS))
    def index(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """Each campaign's planned rounds, opened or not."""
        page = Page(request, views.runtime.tenant)
        return page.render("rounds/index.html", campaigns=planned_rounds(views, page.speaker))

    @get(ROUND, operation_id="portalRound", sync_to_thread=True, opt=access(READERS))
    def show(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        views: NamedDependency[TenantViews],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
        filed: Annotated[int | None, QueryParameter(ge=0, le=100000)] = None,
        top: Annotated[int | None, QueryParameter(ge=1, le=100000)] = None,
    ) -> Template:
        """The round: before it opens, the entrants it would have; opened, assignment, progress,
        paper sheets, aggregation and close."""
        return round_page(views, campaign_id, round_code, top).show(
            request, views.runtime.tenant, done=done if done in DONE else "", filed=filed or 0
        )

    @post(
        f"{ROUND}/open",
        operation_id="portalOpenRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def open(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Posted[TopForm],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Opened with its entrants by the plan's rule (or the top N of the rounds before)."""
        shown = int(data.top) if data.top.strip().isdigit() and int(data.top) > 0 else None
        form = round_page(
            views, campaign_id, round_code, shown, fields=("top",), values={"top": data.top}
        )
        return form.run(
            request,
            views.runtime.tenant,
            lambda: views.runtime.ledger.open_round(
                campaign_id, round_code, None, _top(data.top), actor
            ),
            _done(views, campaign_id, round_code, "opened"),
        )

    assign_auto = _button(
        "assign-auto", "portalAssignAutomatically", "assigned", _assign_automatically
    )

    @post(
        f"{ROUND}/assign",
        operation_id="portalAssignReviewer",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def assign(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Posted[AssignForm],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """By hand: a reviewer with a conflict is refused, the reason shown beside the field."""
        values = {
            "submission_id": data.submission_id,
            "certificate_number": data.certificate_number,
        }

        def assign() -> None:
            refuse(Problem(k, "required", "不能为空") for k, v in values.items() if not v.strip())
            try:
                submission_id = UUID(data.submission_id)
            except ValueError:
                raise RequestProblem(
                    422, Problem("submission_id", "not_in_round", "该成果不在本轮评审中")
                ) from None
            views.runtime.ledger.assign_reviewer(
                campaign_id, round_code, submission_id, data.certificate_number.strip(), actor
            )

        units = {u.code: u.name_zh for u in views.runtime.tenant.recommending_units}

        def named(page: Page, problems: tuple[Problem, ...]) -> dict[str, Any]:
            """The conflict refused with the unit by its name, not its code."""
            return {
                "messages": {
                    p.rule: labels.problem(
                        page.speaker, replace(p, message=labels.units_named(p.message, units))
                    )
                    for p in problems
                    if p.rule == "conflict_of_interest"
                }
            }

        form = round_page(
            views, campaign_id, round_code, fields=tuple(values), values=values, on_refusal=named
        )
        done = _done(views, campaign_id, round_code, "assigned_one")
        return form.run(request, views.runtime.tenant, assign, done)

    @post(
        f"{ROUND}/remind",
        operation_id="portalRemindReviewers",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def remind(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Posted[PortalForm],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
    ) -> Redirect:
        """A mail (through the outbox) to each reviewer with sheets still to file."""
        review_round = views.runtime.ledger.get_round(campaign_id, round_code)
        sent = remind_late(views, auth, review_round)
        done = _done(views, campaign_id, round_code, "reminded")
        return Redirect(f"{done}&filed={sent}", status_code=303)

    aggregate = _button("aggregate", "portalAggregateRound", "aggregated", _aggregate)
    close = _button("close", "portalCloseRound", "closed", _close)

    @get(
        f"{ROUND}/form.xlsx",
        operation_id="portalPaperSheetForm",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def sheet_form(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        """The round's paper sheet form (the 评审汇总表 layout) to fill in and import."""
        campaign = runtime.ledger.get_campaign(campaign_id)
        review_round = runtime.ledger.get_round(campaign_id, round_code)
        content = sheet_form_xlsx(campaign, review_round)
        return download(content, XLSX, f"{review_round.name_zh}纸质评分表录入.xlsx")

    @post(
        f"{ROUND}/import",
        operation_id="portalImportPaperSheets",
        opt=access(SECRETARIAT),
        request_max_body_size=SHEET_FILE_MAX_BYTES + 64 * 1024,
    )
    async def import_sheets(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Paper sheets from the form: refused whole, each row's problems listed, or entered.
        The round is found before the form is read (another tenant's answers 404)."""
        runtime = views.runtime

        def opened(page: Page) -> dict[str, Any]:
            runtime.ledger.get_round(campaign_id, round_code)
            return round_context(page, views, campaign_id, round_code, None)

        form = FormPage(
            round_template,
            opened,
            fields=("file",),
            on_refusal=lambda page, found: {
                "import_problems": [row_problem(page.speaker, p) for p in found]
            },
        )
        await sync_to_thread(form.enter, request, runtime.tenant)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise RequestProblem(422, Problem("file", "required", "请选择 .xlsx 文件"))
        content = await upload.read()
        result = await sync_to_thread(
            import_paper_sheets, runtime, campaign_id, round_code, content, actor
        )
        done = _done(views, campaign_id, round_code, "imported")
        return Redirect(f"{done}&filed={result.filed}", status_code=303)

    @get(
        f"{ROUND}/matrix",
        operation_id="portalScoreMatrix",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def matrix(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """From the review board alone, as the API's matrix (the round is not replayed)."""
        page = Page(request, views.runtime.tenant)
        campaign = views.runtime.ledger.get_campaign(campaign_id)
        round_plan = campaign.review_plan.round(round_code)
        matrix = round_matrix(views, campaign_id, round_code)
        return page.render(
            "rounds/matrix.html",
            campaign=campaign,
            round=round_plan,
            base=f"/{views.runtime.tenant.code}/rounds/{campaign_id}/{round_code}",
            **matrix_view(matrix, page.speaker),
        )

    @get(
        f"{ROUND}/results/{{submission_id:uuid}}",
        operation_id="portalScoreInputs",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def inputs(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        submission_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The recorded inputs of a result's score: every sheet (corrected ones too), who entered
        it, what counted and what was dropped, by which rule."""
        page = Page(request, views.runtime.tenant)
        review_round = views.runtime.ledger.get_round(campaign_id, round_code)
        return page.render(
            "rounds/inputs.html",
            campaign=views.runtime.ledger.get_campaign(campaign_id),
            round=review_round,
            base=f"/{views.runtime.tenant.code}/rounds/{campaign_id}/{round_code}",
            **inputs_of(review_round, submission_id, page.speaker),
        )


def row_problem(speaker: Speaker, problem: Problem) -> dict[str, str]:
    """An import refusal as the row, the column and the message."""
    parts = problem.field.split(".")
    row = parts[1] if len(parts) > 1 and parts[0] == "rows" else ""
    column = ".".join(parts[2:]) if row else problem.field
    return {"row": row, "column": column, "message": labels.problem(speaker, problem)}
