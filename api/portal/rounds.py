"""Rounds of expert review for the secretariat (评审轮次): a round's entrants shown before it is
opened; automatic assignment with each reviewer's load and, per result, who was left out and
why; assignment by hand refused with the conflict named; progress per reviewer and per result,
with a mailed reminder; paper sheets imported from the 评审汇总表 layout; the score matrix;
aggregation and close, and the recorded inputs of any score. The same ledger commands and read
models as `api/review/routes.py`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
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
from api.portal.errors import FormState
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


class TopForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    top: str = ""


class AssignForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    submission_id: str = ""
    certificate_number: str = ""


class CsrfForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""


class RoundPages(Controller):
    path = "/{tenant:str}/rounds"
    include_in_schema = False

    @get("/", operation_id="portalRounds", sync_to_thread=True, opt=access(READERS))
    def index(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
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
        page = Page(request, views.runtime.tenant)
        context = self._context(page, views, campaign_id, round_code, top)
        context["done"] = done if done in DONE else ""
        context["filed"] = filed or 0
        return page.render(
            context.pop("template"), **context, values={}, problems={}, general_problems=[]
        )

    def _context(
        self,
        page: Page,
        views: TenantViews,
        campaign_id: UUID,
        round_code: str,
        top: int | None,
    ) -> dict[str, Any]:
        """The round's page when opened; else the entrants it would have, before confirming."""
        ledger = views.runtime.ledger
        campaign = ledger.get_campaign(campaign_id)
        round_plan = campaign.review_plan.round(round_code)
        if round_plan is None:
            raise RoundNotFound()
        base = f"/{views.runtime.tenant.code}/rounds/{campaign_id}/{round_code}"
        common = {
            "campaign": campaign,
            "plan": round_plan,
            "base": base,
            "import_problems": [],
            "done": "",
            "filed": 0,
        }
        try:
            review_round = ledger.get_round(campaign_id, round_code)
        except RoundNotFound:
            return {**common, **self._preview(views, campaign, round_code, top)}
        fresh(views)
        experts = list_experts(views.db("review_board"))
        names = {e.certificate_number: e.name for e in experts}
        window = campaign.timeline.get(PHASE_OF_KIND[review_round.kind])
        return {
            **common,
            "template": "rounds/round.html",
            "round": review_round,
            "rule": rule_name(page.speaker, review_round.aggregation),
            "entrants": entrant_rows(review_round, names),
            "progress": progress(review_round, window, page.now, names),
            "pool": [e for e in experts if not e.retired],
            "deadline": written(window.closes_at, page.zone, page.speaker) if window else "",
        }

    def _preview(
        self, views: TenantViews, campaign: Any, round_code: str, top: int | None
    ) -> dict[str, Any]:
        try:
            _, entrants = views.runtime.ledger.round_entrants(campaign, round_code, None, top)
            refused: list[Problem] = []
        except DomainError as e:  # shown as why the round cannot open yet
            entrants, refused = [], list(e.problems)
        codes = [p.code for p in campaign.review_plan.rounds]
        return {
            "template": "rounds/open.html",
            "earlier": codes.index(round_code) > 0,
            "entrants": entrants,
            "refused": refused,
            "top": top,
        }

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
        data: Annotated[TopForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        page = Page(request, runtime.tenant)
        shown = int(data.top) if data.top.strip().isdigit() and int(data.top) > 0 else None
        context = self._context(page, views, campaign_id, round_code, shown)
        request.state.form = FormState(
            template=context.pop("template"),
            fields=("top",),
            values={"top": data.top},
            context=context,
            page=page,
        )
        top: int | None = None
        if data.top.strip():
            if not data.top.strip().isdigit() or int(data.top) < 1:
                raise RequestProblem(422, Problem("top", "range", "请填写正整数"))
            top = int(data.top)
        runtime.ledger.open_round(campaign_id, round_code, None, top, actor)
        return self._back(runtime, campaign_id, round_code, "opened")

    @post(
        f"{ROUND}/assign-auto",
        operation_id="portalAssignAutomatically",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def assign_auto(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Annotated[CsrfForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Every active reviewer of the pool is the panel, as the API's default."""
        self._form(request, views, campaign_id, round_code, (), {})
        fresh(views)
        panel = [e.certificate_number for e in list_experts(views.db("review_board"))]
        runtime.ledger.assign_automatically(campaign_id, round_code, panel, actor)
        return self._back(runtime, campaign_id, round_code, "assigned")

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
        data: Annotated[AssignForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """By hand: a reviewer with a conflict is refused, the reason shown beside the field."""
        values = {
            "submission_id": data.submission_id,
            "certificate_number": data.certificate_number,
        }
        self._form(request, views, campaign_id, round_code, tuple(values), values)
        missing = [Problem(k, "required", "不能为空") for k, v in values.items() if not v.strip()]
        if missing:
            raise RequestProblem(422, *missing)
        try:
            submission_id = UUID(data.submission_id)
        except ValueError:
            raise RequestProblem(
                422, Problem("submission_id", "not_in_round", "该成果不在本轮评审中")
            ) from None
        runtime.ledger.assign_reviewer(
            campaign_id, round_code, submission_id, data.certificate_number.strip(), actor
        )
        return self._back(runtime, campaign_id, round_code, "assigned_one")

    @post(
        f"{ROUND}/remind",
        operation_id="portalRemindReviewers",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def remind(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Annotated[CsrfForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
    ) -> Redirect:
        """A mail (through the outbox) to each reviewer with sheets still to file."""
        review_round = views.runtime.ledger.get_round(campaign_id, round_code)
        sent = remind_late(views, auth, review_round)
        tenant = views.runtime.tenant.code
        return Redirect(
            f"/{tenant}/rounds/{campaign_id}/{round_code}?done=reminded&filed={sent}",
            status_code=303,
        )

    @post(
        f"{ROUND}/aggregate",
        operation_id="portalAggregateRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def aggregate(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Annotated[CsrfForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        self._form(request, views, campaign_id, round_code, (), {})
        runtime.ledger.aggregate_round(campaign_id, round_code, actor)
        return self._back(runtime, campaign_id, round_code, "aggregated")

    @post(
        f"{ROUND}/close",
        operation_id="portalCloseRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def close(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: Annotated[CsrfForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        self._form(request, views, campaign_id, round_code, (), {})
        runtime.ledger.close_round(campaign_id, round_code, actor)
        return self._back(runtime, campaign_id, round_code, "closed")

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
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Paper sheets from the form: refused whole, each row's problems listed, or entered.
        The round is found before the form is read (another tenant's answers 404)."""
        await sync_to_thread(self._import_form, request, views, campaign_id, round_code)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise RequestProblem(422, Problem("file", "required", "请选择 .xlsx 文件"))
        content = await upload.read()
        result = await sync_to_thread(
            import_paper_sheets, runtime, campaign_id, round_code, content, actor
        )
        return Redirect(
            f"/{runtime.tenant.code}/rounds/{campaign_id}/{round_code}"
            f"?done=imported&filed={result.filed}",
            status_code=303,
        )

    def _import_form(
        self,
        request: Request[Any, Any, Any],
        views: TenantViews,
        campaign_id: UUID,
        round_code: str,
    ) -> None:
        page = Page(request, views.runtime.tenant)
        views.runtime.ledger.get_round(campaign_id, round_code)
        context = self._context(page, views, campaign_id, round_code, None)
        speaker = page.speaker

        def rows(problems: tuple[Problem, ...]) -> dict[str, Any]:
            return {"import_problems": [row_problem(speaker, p) for p in problems]}

        request.state.form = FormState(
            template=context.pop("template"),
            fields=("file",),
            values={},
            context=context,
            page=page,
            on_refusal=rows,
        )

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

    # Helpers.

    def _form(
        self,
        request: Request[Any, Any, Any],
        views: TenantViews,
        campaign_id: UUID,
        round_code: str,
        fields: tuple[str, ...],
        values: dict[str, str],
    ) -> None:
        page = Page(request, views.runtime.tenant)
        context = self._context(page, views, campaign_id, round_code, None)
        request.state.form = FormState(
            template=context.pop("template"),
            fields=fields,
            values=values,
            context=context,
            page=page,
        )

    def _back(
        self, runtime: TenantRuntime, campaign_id: UUID, round_code: str, done: str
    ) -> Redirect:
        return Redirect(
            f"/{runtime.tenant.code}/rounds/{campaign_id}/{round_code}?done={done}",
            status_code=303,
        )


def row_problem(speaker: Speaker, problem: Problem) -> dict[str, str]:
    """An import refusal as the row, the column and the message."""
    parts = problem.field.split(".")
    row = parts[1] if len(parts) > 1 and parts[0] == "rows" else ""
    column = ".".join(parts[2:]) if row else problem.field
    return {"row": row, "column": column, "message": labels.problem(speaker, problem)}
