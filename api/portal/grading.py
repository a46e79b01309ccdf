"""The secretariat's grading, notice and publication (等级认定、公示、发布), auditors reading: per
campaign the ranking with each result's combined score, grade and its basis (the domain's
`rank_and_grade` says why not the grade above), the quotas as they fill (`quota_fill`); grade the
campaign, override a grade with a reason, open and close the public notice, resolve each
objection, publish, open any certificate as PDF. The same reads and commands as the API
(`api/review/results.py`: gradeCampaign, showGrading, overrideGrade, openPublicNotice, closePublicNotice,
resolveObjection, downloadCertificate; `api/campaigns/routes.py`: publishResults)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Programme
from aggregates.grading import Grading, GradingNotFound, quota_fill
from aggregates.ledger.application import AssociationLedger
from aggregates.limits import OBJECTION_MAX_CHARS, REASON_MAX_CHARS, too_long
from aggregates.problems import Problem
from api.accounts.routes import Auth
from api.platform.access import PUBLIC, access, not_found, only
from api.platform.errors import RequestProblem
from api.platform.security import CSRF_FIELD
from api.portal import labels
from api.portal.clock import written
from api.portal.forms import FormPage, check_form_token, form_token, refuse, said, stripped
from api.portal.rendering import Page
from api.review import public_objections
from api.review.results import PDF, certificate_pdf
from projections.campaign_list import list_campaigns
from projections.review_board import ResultRow, campaign_results
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
N_ = labels.N_
STATUSES = {
    "ungraded": N_("尚未认定等级"),
    "graded": N_("已认定等级，未公示"),
    "public_notice": N_("公示中"),
    "notice_closed": N_("公示已结束，待发布"),
    "published": N_("已发布"),
}
DONE = {
    "graded": N_("已按评审方案认定等级。"),
    "overridden": N_("已调整等级，理由已记录。"),
    "noticed": N_("已开始公示，公示名单已在公示页面公开。"),
    "resolved": N_("已处理异议。"),
    "closed": N_("公示已结束。"),
    "published": N_("结果已发布，证书已生成。"),
}
DECISION_WORDS = {"upheld": N_("异议成立"), "dismissed": N_("异议不成立")}
REFUSALS = (
    N_("评审尚未结束"),
    N_("结果已公示，只能通过异议处理改变等级"),
    N_("调整等级须说明理由"),
    N_("不是本活动设定的等级"),
    N_("该等级须上传发表视频"),
    N_("该等级须参加发表赛"),
    N_("不在公示期内"),
    N_("结果尚未公示"),
    N_("公示已结束"),
    N_("公示期未满，不能结束公示"),
    N_("公示结束后才能发布结果"),
    N_("结果已发布"),
    N_("请写明处理意见"),
    N_("只有异议成立时才能改变等级"),
    N_("须为 upheld（成立）或 dismissed（不成立）"),
    N_("该异议已处理"),
    N_("本活动尚未认定等级"),
    N_("请填写真实姓名"),
    N_("请填写电子邮箱，以接收确认码"),
    N_("电子邮箱格式不正确"),
    N_("电话号码格式不正确"),
    N_("请写明异议的事实和理由"),
    N_("请选择对哪项成果提出异议"),
    N_("请输入邮件中的确认码"),
    N_("确认码无效、已使用或已过期"),
    N_("提交过于频繁，请 1 小时后再试"),
    N_("尝试过于频繁，请 1 小时后再试"),
    N_("该成果不在评审结果中"),
)
"""The domain's refusals on these pages whose message is fixed (the catalog translates them)."""


def grade_names(runtime: TenantRuntime, campaign: Campaign, page: Page) -> dict[str, str]:
    config = runtime.tenant.programmes.get(Programme(campaign.programme))
    if config is None:
        return {}
    return {g.code: g.name_en if page.speaker.english else g.name_zh for g in config.grades}


def _grading(runtime: TenantRuntime, campaign_id: UUID) -> Grading | None:
    try:
        return runtime.ledger.get_grading(campaign_id)
    except GradingNotFound:
        return None


def _score(value: Any) -> str:
    return "—" if value is None else str(Decimal(str(value)))


def ranking_context(page: Page, runtime: TenantRuntime, campaign_id: UUID) -> dict[str, Any]:
    """What the ranking page shows: the grading as the ledger holds it (the API's showGrading)."""
    campaign = runtime.ledger.get_campaign(campaign_id)
    grading = _grading(runtime, campaign_id)
    names = grade_names(runtime, campaign, page)
    status = grading.status if grading is not None else "ungraded"
    rows: list[dict[str, Any]] = []
    quotas: dict[str, Any] = {"bands": [], "domains": []}
    objections: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    if grading is not None:
        entries = sorted(grading.entries.values(), key=lambda e: e["rank"])
        topics = {str(e["submission_id"]): e["topic"] for e in entries}
        for e in entries:
            sid = str(e["submission_id"])
            rows.append(
                {
                    "id": sid,
                    "rank": e["rank"],
                    "serial": e["serial"],
                    "unit_name": e["unit_name"],
                    "group_name": e["group_name"],
                    "topic": e["topic"],
                    "domain": e["domain"] or "",
                    "material": _score(e["material"]),
                    "presentation": _score(e["presentation"]),
                    "combined": _score(e["combined"]),
                    "grade": e["grade"],
                    "grade_name": names.get(e["grade"], e["grade"]) if e["grade"] else "",
                    "basis": e["basis"],
                    "override": grading.overrides.get(sid, ""),
                    "upheld": [
                        o["resolution"]
                        for o in grading.objections.values()
                        if str(o["submission_id"]) == sid and o["decision"] == "upheld"
                    ],
                    "certificate": grading.certificates.get(sid, ""),
                }
            )
        quotas = quota_fill(campaign.review_plan, grading.entries.values())
        for band in quotas["bands"]:
            band["name"] = names.get(band["grade"], band["grade"])
        for limit in quotas["domains"]:
            limit["name"] = names.get(limit["grade"], limit["grade"])
        objections = [_objection_row(page, o, topics) for o in grading.objections.values()]
        certificates = [r for r in rows if r["certificate"]]
    return {
        "campaign": {"id": str(campaign_id), "title": campaign.title},
        "state": status,
        "status_text": page.speaker.gettext(STATUSES[status]),
        "closes_at": (
            written(grading.notice_closes_at, page.zone, page.speaker)
            if grading is not None and grading.notice_closes_at
            else ""
        ),
        "rows": rows,
        "quotas": quotas,
        "objections": objections,
        "certificates": certificates,
        "reading_only": not _is_secretariat(page),
    }


def _is_secretariat(page: Page) -> bool:
    principal = page.viewer.principal if page.viewer else None
    return principal is not None and Role.SECRETARIAT in principal.roles


def _objection_row(page: Page, o: dict[str, Any], topics: dict[str, str]) -> dict[str, Any]:
    objector = o.get("objector")
    return {
        "id": str(o["objection_id"]),
        "submission_id": str(o["submission_id"]),
        "topic": topics.get(str(o["submission_id"]), ""),
        "reasons": o["reasons"],
        "objector": objector,
        "filed_by": o["filed_by"],
        "decision": o["decision"],
        "decision_text": page.speaker.gettext(DECISION_WORDS[o["decision"]])
        if o["decision"] in DECISION_WORDS
        else "",
        "resolution": o["resolution"] or "",
    }


def _done(runtime: TenantRuntime, campaign_id: UUID, done: str) -> str:
    return f"/{runtime.tenant.code}/grading/{campaign_id}?done={done}"


def _current_grade(context: Mapping[str, Any]) -> dict[str, str]:
    """A grade form first shows the result's grade as it stands."""
    return {"grade": context["row"]["grade"] or ""}


def _ranking(runtime: TenantRuntime, campaign_id: UUID, flag: str = "") -> FormPage:
    """The ranking page (after the `flag` of what was done), where its buttons' refusals are
    shown (above the ranking)."""
    return FormPage(
        "grading/ranking.html",
        lambda page: {
            **ranking_context(page, runtime, campaign_id),
            "done": said(page, DONE, flag),
        },
    )


def _button(
    path: str,
    operation_id: str,
    done: str,
    command: Callable[[AssociationLedger, UUID, Actor], object],
) -> Any:
    """A button of the ranking page: its ledger command; refused, the ranking with the
    refusal above it."""

    @post(f"/{{campaign_id:uuid}}/{path}", operation_id=operation_id, opt=access(SECRETARIAT))
    async def pressed(
        self: Any,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        return await _ranking(runtime, campaign_id).submit(
            request,
            runtime.tenant,
            lambda: command(runtime.ledger, campaign_id, actor),
            _done(runtime, campaign_id, done),
        )

    return pressed


class GradingPages(Controller):
    """等级认定、公示与发布, for the secretariat (auditors read)."""

    path = "/{tenant:str}/grading"
    include_in_schema = False

    @get("/", operation_id="portalGradingCampaigns", sync_to_thread=True, opt=access(READERS))
    def campaigns(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """The campaigns, each leading to its grading."""
        page = Page(request, views.runtime.tenant)
        rows = [
            {
                "href": f"/{views.runtime.tenant.code}/grading/{c.campaign_id}",
                "title": c.title,
                "programme": labels.programme(page.speaker, c.programme),
                "year": c.year,
            }
            for c in list_campaigns(views.db("campaign_list"))
        ]
        return page.render("grading/campaigns.html", campaigns=rows)

    @get(
        "/{campaign_id:uuid}",
        operation_id="portalGrading",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def ranking(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The ranking with each result's scores, grade and basis, the quotas as they fill, the
        notice's objections; the buttons of each step."""
        flag = request.query_params.get("done", "")
        return _ranking(runtime, campaign_id, flag).show(request, runtime.tenant)

    # The ranking page's buttons: each one ledger command.
    grade = _button("grade", "portalGradeCampaign", "graded", AssociationLedger.grade_campaign)
    open_notice = _button("notice", "portalOpenNotice", "noticed", AssociationLedger.open_notice)
    close_notice = _button(
        "notice/close", "portalCloseNotice", "closed", AssociationLedger.close_notice
    )
    publish = _button(
        "publish", "portalPublishResults", "published", AssociationLedger.publish_results
    )

    # One result: its standing and the override form.

    @staticmethod
    def _result_context(
        page: Page, runtime: TenantRuntime, campaign_id: UUID, submission_id: UUID
    ) -> dict[str, Any]:
        context = ranking_context(page, runtime, campaign_id)
        row = next((r for r in context["rows"] if r["id"] == str(submission_id)), None)
        if row is None:
            raise not_found("submission_id")
        campaign = runtime.ledger.get_campaign(campaign_id)
        return {
            "campaign": context["campaign"],
            "state": context["state"],
            "reading_only": context["reading_only"],
            "row": row,
            "grades": list(grade_names(runtime, campaign, page).items()),
            "objections": [o for o in context["objections"] if o["submission_id"] == row["id"]],
        }

    @get(
        "/{campaign_id:uuid}/results/{submission_id:uuid}",
        operation_id="portalGradingResult",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def result(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """A result's standing, and its grade changed with a reason (secretariat)."""
        form = self._result_page(runtime, campaign_id, submission_id, values=_current_grade)
        return form.show(request, runtime.tenant)

    def _result_page(
        self, runtime: TenantRuntime, campaign_id: UUID, submission_id: UUID, **form: Any
    ) -> FormPage:
        return FormPage(
            "grading/result.html",
            lambda page: self._result_context(page, runtime, campaign_id, submission_id),
            **form,
        )

    @post(
        "/{campaign_id:uuid}/results/{submission_id:uuid}/grade",
        operation_id="portalOverrideGrade",
        opt=access(SECRETARIAT),
    )
    async def override(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """调整等级: a grade (or none) with the reason, recorded (overrideGrade)."""
        values = stripped(await request.form(), "grade", "reason")

        def override() -> None:
            refuse(too_long("reason", values["reason"], REASON_MAX_CHARS, "理由"))
            runtime.ledger.override_grade(
                campaign_id, submission_id, values["grade"] or None, values["reason"], actor
            )

        form = self._result_page(
            runtime, campaign_id, submission_id, fields=("grade", "reason"), values=values
        )
        done = _done(runtime, campaign_id, "overridden")
        return await form.submit(request, runtime.tenant, override, done)

    # One objection and its resolution.

    @staticmethod
    def _objection_context(
        page: Page, runtime: TenantRuntime, campaign_id: UUID, objection_id: UUID
    ) -> dict[str, Any]:
        context = ranking_context(page, runtime, campaign_id)
        found = next((o for o in context["objections"] if o["id"] == str(objection_id)), None)
        if found is None:
            raise not_found("objection_id")
        row = next(r for r in context["rows"] if r["id"] == found["submission_id"])
        campaign = runtime.ledger.get_campaign(campaign_id)
        return {
            "campaign": context["campaign"],
            "state": context["state"],
            "reading_only": context["reading_only"],
            "objection": found,
            "row": row,
            "grades": list(grade_names(runtime, campaign, page).items()),
            "decisions": [(k, page.speaker.gettext(v)) for k, v in DECISION_WORDS.items()],
        }

    @get(
        "/{campaign_id:uuid}/objections/{objection_id:uuid}",
        operation_id="portalObjection",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def objection(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        objection_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """An objection beside the result's standing, and its resolution (secretariat)."""
        form = self._objection_page(runtime, campaign_id, objection_id, values=_current_grade)
        return form.show(request, runtime.tenant)

    def _objection_page(
        self, runtime: TenantRuntime, campaign_id: UUID, objection_id: UUID, **form: Any
    ) -> FormPage:
        return FormPage(
            "grading/objection.html",
            lambda page: self._objection_context(page, runtime, campaign_id, objection_id),
            **form,
        )

    @post(
        "/{campaign_id:uuid}/objections/{objection_id:uuid}/resolve",
        operation_id="portalResolveObjection",
        opt=access(SECRETARIAT),
    )
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        objection_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """异议成立 (with a grade change, or not) or 异议不成立, with the reason."""
        posted = await request.form()
        values = stripped(posted, "decision", "reason", "grade")
        values["change_grade"] = "yes" if posted.get("change_grade") else ""

        def resolve() -> None:
            refuse(too_long("reason", values["reason"], REASON_MAX_CHARS, "处理意见"))
            runtime.ledger.resolve_objection(
                campaign_id,
                objection_id,
                values["decision"],
                values["reason"],
                bool(values["change_grade"]),
                values["grade"] or None,
                actor,
            )

        fields = ("decision", "reason", "grade")
        form = self._objection_page(
            runtime, campaign_id, objection_id, fields=fields, values=values
        )
        done = _done(runtime, campaign_id, "resolved")
        return await form.submit(request, runtime.tenant, resolve, done)

    @get(
        "/{campaign_id:uuid}/certificates/{submission_id:uuid}",
        operation_id="portalCertificate",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def certificate(
        self,
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        state: State,
    ) -> Response[bytes]:
        """A certificate, opened in the browser (the API's downloadCertificate, inline)."""
        content, code = certificate_pdf(
            runtime, campaign_id, submission_id, state.settings.base_url
        )
        return Response(
            content,
            media_type=PDF,
            headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(code)}.pdf"},
        )


# The public notice's objections (公示异议): anyone, with a real name and an e-mail address
# confirmed by a mailed code (api/review/public_objections.py), or a signed-in person of the tenant.
OBJECTORS_ROLES = frozenset(
    (Role.APPLICANT_UNIT, Role.RECOMMENDING_UNIT, Role.REVIEWER, Role.SECRETARIAT)
)
OBJECTORS = only(*OBJECTORS_ROLES)
"""As the API's fileObjection: anyone of the tenant, except auditors, who change nothing."""
PUBLIC_FIELDS = ("submission_id", "name", "email", "phone", "reasons")


def _noticed_rows(views: TenantViews, campaign_id: UUID) -> list[ResultRow]:
    return [
        r
        for r in campaign_results(views.db("review_board"), campaign_id, {})
        if r.status == "public_notice" and r.grade
    ]


def _signed_objector(page: Page) -> bool:
    principal = page.viewer.principal if page.viewer else None
    return (
        principal is not None
        and page.tenant is not None
        and principal.tenant == page.tenant.code
        and bool(principal.roles & OBJECTORS_ROLES)
    )


class PublicObjectionPages(Controller):
    """提出异议, from the public notice page (no sign-in needed)."""

    path = "/{tenant:str}/campaigns/{campaign_id:uuid}/public-notice/objection"
    include_in_schema = False

    @staticmethod
    def _context(
        page: Page, runtime: TenantRuntime, views: TenantViews, campaign_id: UUID, token: str
    ) -> dict[str, Any]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        names = grade_names(runtime, campaign, page)
        return {
            "campaign": {"id": str(campaign_id), "title": campaign.title},
            "results": [
                (
                    r.submission_id,
                    f"{r.serial} {r.unit_name} · {r.topic}（{names.get(r.grade or '', r.grade)}）",
                )
                for r in _noticed_rows(views, campaign_id)
            ],
            "signed": _signed_objector(page),
            "form_csrf": token,
            "reasons_max": OBJECTION_MAX_CHARS,
        }

    @get("/", operation_id="portalObjectionForm", sync_to_thread=True, opt=access(PUBLIC))
    def form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        result: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template:
        """The objection form (the result chosen from the notice page kept)."""
        token, cookies = form_token(request)
        page = Page(request, views.runtime.tenant, cookies=cookies)
        context = self._context(page, views.runtime, views, campaign_id, token)
        return page.render(
            "public/objection.html",
            **context,
            values={"submission_id": result},
            problems={},
            general_problems=[],
        )

    @post("/", operation_id="portalAskObjection", opt=access(PUBLIC))
    async def ask(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
    ) -> Template:
        """Anyone: checked, then the code mailed; the page asks for it."""
        posted = await request.form()
        values = stripped(posted, *PUBLIC_FIELDS)
        token, cookies = form_token(request)
        address = auth.address(request)
        form = FormPage(
            "public/objection.html",
            lambda page: self._context(page, views.runtime, views, campaign_id, token),
            fields=PUBLIC_FIELDS,
            values=values,
        )

        def run() -> Template:
            page, context = form.enter(request, views.runtime.tenant, cookies)
            check_form_token(token, cookies, posted.get(CSRF_FIELD))
            submission_id = _uuid(values["submission_id"])
            pending, expires = public_objections.ask(
                auth,
                address,
                campaign_id,
                submission_id,
                values["reasons"],
                values["name"],
                values["email"],
                values["phone"],
            )
            return page.render(
                "public/objection_code.html",
                **context,
                pending=pending,
                email=values["email"],
                expires=written(expires, page.zone, page.speaker),
                values={},
                problems={},
                general_problems=[],
            )

        return await sync_to_thread(run)

    @post("/confirm", operation_id="portalConfirmObjection", opt=access(PUBLIC))
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
    ) -> Template:
        """The mailed code: the objection filed."""
        posted = await request.form()
        pending = str(posted.get("pending", ""))
        code = str(posted.get("code", "")).strip()
        token, cookies = form_token(request)
        address = auth.address(request)

        def asked(page: Page) -> dict[str, Any]:
            found = public_objections.PendingObjection.decode(pending)
            return {
                **self._context(page, views.runtime, views, campaign_id, token),
                "pending": pending,
                "email": found.email if found else "",
                "expires": "",
            }

        def run() -> Template:
            form = FormPage("public/objection_code.html", asked, fields=("code",))
            page, context = form.enter(request, views.runtime.tenant, cookies)
            check_form_token(token, cookies, posted.get(CSRF_FIELD))
            if not code:
                raise RequestProblem(422, Problem("code", "required", "请输入邮件中的确认码"))
            public_objections.confirm(auth, address, campaign_id, pending, code)
            return page.render("public/objection_filed.html", **context)

        return await sync_to_thread(run)

    @post("/signed-in", operation_id="portalFileObjection", opt=access(OBJECTORS))
    async def file(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template:
        """A signed-in person of the tenant: filed at once (the API's fileObjection)."""
        values = stripped(await request.form(), "submission_id", "reasons")
        form = FormPage(
            "public/objection.html",
            lambda page: self._context(page, views.runtime, views, campaign_id, ""),
            fields=PUBLIC_FIELDS,
            values=values,
        )

        def run() -> Template:
            page, context = form.enter(request, views.runtime.tenant)
            views.runtime.ledger.file_objection(
                campaign_id, _uuid(values["submission_id"]), values["reasons"], actor
            )
            return page.render("public/objection_filed.html", **context)

        return await sync_to_thread(run)


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise RequestProblem(
            422, Problem("submission_id", "required", "请选择对哪项成果提出异议")
        ) from None
