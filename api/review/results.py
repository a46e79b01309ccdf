"""The campaign's results: grading, overrides, the public notice (公示) with objections, the
ranking and results list, certificates (PDF) and the public verification of a certificate code."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign
from aggregates.ledger.review import parse_certificate_code
from api.accounts.routes import Auth
from api.platform.access import PUBLIC, SIGNED_IN, access, not_found, only
from api.platform.exports import XLSX, download
from api.platform.records import Records
from api.review import public_objections
from api.review.certificates import CertificateText, render_pdf
from api.review.exports import results_xlsx
from api.review.routes import fresh
from api.review.schemas import (
    CertificateOut,
    GradingOut,
    ObjectionIn,
    ObjectionOut,
    OverrideIn,
    PublicObjectionConfirmIn,
    PublicObjectionIn,
    PublicObjectionPendingOut,
    ResolutionIn,
)
from projections.review_board import ResultRow, campaign_results
from projections.service import TenantViews
from tenants.runtime import Platform, TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
OBJECTORS = only(Role.APPLICANT_UNIT, Role.RECOMMENDING_UNIT, Role.REVIEWER, Role.SECRETARIAT)
"""Anyone of the tenant may object during the notice, except auditors, who change nothing."""
PDF = "application/pdf"


def certificate_text(
    runtime: TenantRuntime, campaign: Campaign, entry: dict[str, Any], code: str, public_url: str
) -> CertificateText:
    return CertificateText(
        code=code,
        association=runtime.tenant.name_zh,
        unit_name=entry["unit_name"],
        group_name=entry["group_name"],
        topic=entry["topic"],
        grade=runtime.grade_names(campaign.programme).get(entry["grade"], entry["grade"]),
        campaign=campaign.title,
        issued_on=campaign.published_at.date() if campaign.published_at else campaign.period_end,
        verify_url=f"{public_url}/verify?code={code}",
        sample=campaign.is_rehearsal,
    )


class ResultsController(Controller):
    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}"
    tags = ["results 结果"]

    @post("/grading", operation_id="gradeCampaign", sync_to_thread=True, opt=access(SECRETARIAT))
    def grade(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> GradingOut:
        graded = runtime.ledger.grade_campaign(campaign_id, actor)
        return GradingOut.of(graded)

    @get("/grading", operation_id="showGrading", sync_to_thread=True, opt=access(READERS))
    def show(
        self, campaign_id: FromPath[UUID], runtime: NamedDependency[TenantRuntime]
    ) -> GradingOut:
        return GradingOut.of(runtime.ledger.get_grading(campaign_id))

    @post(
        "/results/{submission_id:uuid}/grade",
        operation_id="overrideGrade",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def override(
        self,
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        data: JSONBody[OverrideIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> GradingOut:
        changed = runtime.ledger.override_grade(
            campaign_id, submission_id, data.grade, data.reason, actor
        )
        return GradingOut.of(changed)

    @post(
        "/notice",
        operation_id="openPublicNotice",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def open_notice(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> GradingOut:
        return GradingOut.of(runtime.ledger.open_notice(campaign_id, actor))

    @post(
        "/notice/close",
        operation_id="closePublicNotice",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def close_notice(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> GradingOut:
        return GradingOut.of(runtime.ledger.close_notice(campaign_id, actor))

    @post("/objections", operation_id="fileObjection", sync_to_thread=True, opt=access(OBJECTORS))
    def object(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[ObjectionIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ObjectionOut:
        _, objection_id = runtime.ledger.file_objection(
            campaign_id, data.submission_id, data.reasons, actor
        )
        return ObjectionOut(objection_id=objection_id, status="filed")

    @post(
        "/public-objections",
        operation_id="askPublicObjection",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=202,
    )
    def ask_public_objection(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: JSONBody[PublicObjectionIn],
        auth: NamedDependency[Auth],
    ) -> PublicObjectionPendingOut:
        """An objection by anyone during the notice, without an account (公示 are public): checked
        as filing would, then a code is mailed to `email`; nothing is filed until it is confirmed
        (`confirmPublicObjection`). Limited per client address and per e-mail address."""
        pending, expires = public_objections.ask(
            auth,
            auth.address(request),
            campaign_id,
            data.submission_id,
            data.reasons,
            data.name,
            data.email,
            data.phone,
        )
        return PublicObjectionPendingOut(
            pending=pending, code_expires_at=expires, message="确认码已发送至您的电子邮箱"
        )

    @post(
        "/public-objections/confirm",
        operation_id="confirmPublicObjection",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=201,
    )
    def confirm_public_objection(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: JSONBody[PublicObjectionConfirmIn],
        auth: NamedDependency[Auth],
    ) -> ObjectionOut:
        objection_id = public_objections.confirm(
            auth, auth.address(request), campaign_id, data.pending, data.code
        )
        return ObjectionOut(objection_id=objection_id, status="filed")

    @post(
        "/objections/{objection_id:uuid}/resolve",
        operation_id="resolveObjection",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def resolve(
        self,
        campaign_id: FromPath[UUID],
        objection_id: FromPath[UUID],
        data: JSONBody[ResolutionIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> GradingOut:
        resolved = runtime.ledger.resolve_objection(
            campaign_id,
            objection_id,
            data.decision,
            data.reason,
            data.change_grade,
            data.grade,
            actor,
        )
        return GradingOut.of(resolved)

    @get("/results", operation_id="listResults", sync_to_thread=True, opt=access(SIGNED_IN))
    def results(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        grade: Annotated[str | None, QueryParameter(max_length=50)] = None,
        recommending_unit: Annotated[str | None, QueryParameter(max_length=50)] = None,
        domain: Annotated[str | None, QueryParameter(max_length=50)] = None,
    ) -> list[ResultRow]:
        """The ranking. The secretariat and auditors see it as soon as it is graded; everyone
        of the tenant sees the graded results from the public notice on."""
        views.runtime.ledger.get_campaign(campaign_id)  # another tenant's campaign: 404
        fresh(views)
        filters = {"grade": grade, "recommending_unit": recommending_unit, "domain": domain}
        return records.results(campaign_results(views.db("review_board"), campaign_id, filters))

    @get("/results.xlsx", operation_id="exportResults", sync_to_thread=True, opt=access(READERS))
    def export(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        fresh(views)
        campaign = runtime.ledger.get_campaign(campaign_id)
        rows = campaign_results(views.db("review_board"), campaign_id, {})
        units = {u.code: u.name_zh for u in runtime.tenant.recommending_units}
        content = results_xlsx(campaign, rows, runtime.grade_names(campaign.programme), units)
        return download(content, XLSX, f"{campaign.title}评审结果.xlsx")

    @get(
        "/results/{submission_id:uuid}/certificate.pdf",
        operation_id="downloadCertificate",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
    )
    def certificate(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        records.certificate_of(runtime, campaign_id, submission_id)
        content, code = certificate_pdf(
            runtime, campaign_id, submission_id, request.app.state.settings.base_url
        )
        return download(content, PDF, f"{code}.pdf")


def certificate_pdf(
    runtime: TenantRuntime, campaign_id: UUID, submission_id: UUID, public_url: str
) -> tuple[bytes, str]:
    """A result's certificate as PDF, and its code (the API's download and the portal's); 404
    when it holds none: not graded, or not yet published. The caller checks who may read it."""
    campaign = runtime.ledger.get_campaign(campaign_id)
    grading = runtime.ledger.get_grading(campaign_id)
    code = grading.certificates.get(str(submission_id))
    if code is None:
        raise not_found("submission_id")
    text = certificate_text(
        runtime, campaign, grading.entries[str(submission_id)], code, public_url
    )
    return render_pdf(text), code


def find_certificate(platform: Platform, code: str, public_url: str) -> CertificateText | None:
    """The certificate of a verification code, of whichever tenant issued it; None if none."""
    parsed = parse_certificate_code(code)
    runtime = platform.tenants.get(parsed[0]) if parsed else None
    if runtime is None:
        return None
    found = runtime.ledger.verify_certificate(code)
    if found is None:
        return None
    campaign, entry = found
    return certificate_text(runtime, campaign, entry, code.strip().upper(), public_url)


class CertificateController(Controller):
    """Anyone may check a certificate's code (as JSON; the page printed on the certificate,
    `/verify?code=`, is the portal's: api/portal/public.py)."""

    path = "/"
    tags = ["results 结果"]

    @get(
        "/api/v1/certificates/{code:str}",
        operation_id="verifyCertificate",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def verify(
        self, code: FromPath[str], platform: NamedDependency[Platform], state: State
    ) -> CertificateOut:
        found = find_certificate(platform, code, state.settings.base_url)
        if found is None:
            return CertificateOut(code=code, valid=False)
        if found.sample:  # a rehearsal's: not verifiable, and said so (ADR 36)
            return CertificateOut(code=found.code, valid=False, sample=True)
        return CertificateOut(
            code=found.code,
            valid=True,
            association=found.association,
            unit_name=found.unit_name,
            group_name=found.group_name,
            topic=found.topic,
            grade=found.grade,
            campaign=found.campaign,
            issued_on=found.issued_on,
        )
