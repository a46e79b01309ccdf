"""Submissions (成果申报): drafts, edits, submitting, withdrawing, corrections, the unit's
endorsement, the lists each role reads, and attachments streamed to the file store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from aggregates.actor import Actor, Role
from aggregates.problems import Problem
from aggregates.submission import Attachment, AttachmentKind, InvalidSubmission, Submission
from api.applicants.schemas import (
    CorrectionsIn,
    DraftIn,
    EndorsementIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
)
from api.platform.access import access, not_found, only
from api.platform.dependencies import etag
from api.platform.errors import RequestProblem
from api.platform.read_your_writes import written_here
from api.platform.records import Records
from api.platform.schemas import ReasonIn
from projections.service import TenantViews
from projections.submission_list import list_submissions
from tenants.files import JPEG, MP4, PDF, PNG, PPT, PPTX, XLSX, FileStore, TooLarge, sniff
from tenants.runtime import TenantRuntime

ALLOWED_CONTENT = {
    AttachmentKind.APPLICATION_FORM: {PDF},
    AttachmentKind.REPORT: {PDF},
    AttachmentKind.SLIDES: {PDF, PPT, PPTX},
    AttachmentKind.VIDEO: {MP4},
    AttachmentKind.EVIDENCE: {PDF, JPEG, PNG, XLSX},
}
CONTENT_NAMES = {
    PDF: "PDF",
    PPT: "PPT",
    PPTX: "PPTX",
    XLSX: "XLSX",
    MP4: "MP4",
    JPEG: "JPEG",
    PNG: "PNG",
}
APPLICANT = only(Role.APPLICANT_UNIT)
READERS = only(Role.APPLICANT_UNIT, Role.RECOMMENDING_UNIT, Role.SECRETARIAT, Role.AUDITOR)


def out(
    submission: Submission, views: TenantViews, position: int | None = None, status: int = 200
) -> Response[SubmissionOut]:
    views.wait(
        position if position is not None else views.runtime.ledger.recorder.max_notification_id()
    )
    return Response(
        SubmissionOut.of(submission), status_code=status, headers={"ETag": etag(submission.version)}
    )


class SubmissionController(Controller):
    path = "/api/v1/tenants/{tenant:str}"
    tags = ["submissions 成果申报"]

    @post(
        "/campaigns/{campaign_id:uuid}/submissions",
        operation_id="draftSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=HTTP_201_CREATED,
    )
    def draft(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        data: JSONBody[DraftIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False, max_length=200)
        ] = None,
    ) -> Response[SubmissionOut]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        submission, created = runtime.ledger.draft_submission(
            campaign_id=campaign_id,
            credit_code=records.filing_code(),
            applicant=data.applicant.checked(runtime.tenant),
            recommending_unit=data.recommending_unit,
            form=data.form(campaign.programme),
            actor=actor,
            idempotency_key=idempotency_key,
            campaign=campaign,
            account=records.principal.account,
        )
        records.own(submission)  # a replay finds only the account's own draft
        if created:  # its own write waited for here, in this thread (no head to read)
            written = written_here(runtime.tenant.code) or 0
            return out(submission, views, position=written, status=HTTP_201_CREATED)
        return out(submission, views)

    @get(
        "/campaigns/{campaign_id:uuid}/submissions",
        operation_id="listSubmissions",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def list(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        runtime: NamedDependency[TenantRuntime],
        status: FromQuery[str | None] = None,
        recommending_unit: FromQuery[str | None] = None,
        key_domain: FromQuery[str | None] = None,
        industry: FromQuery[str | None] = None,
        topic_type: FromQuery[str | None] = None,
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> SubmissionPage:
        """The secretariat and auditors: every filed entry; an applicant unit: its own, drafts
        included; a recommending unit: what was filed under it."""
        runtime.ledger.get_campaign(campaign_id)  # another tenant's campaign is not found here
        scope = records.list_scope(recommending_unit)
        if scope.empty:
            return SubmissionPage(items=[], next_after=None)
        filters = {
            "status": status,
            "recommending_unit": scope.recommending_unit,
            "key_domain": key_domain,
            "industry": industry,
            "topic_type": topic_type,
            "credit_code": None,
        }
        rows = list_submissions(
            views.db("submission_list"),
            campaign_id,
            filters=filters,
            include_drafts=scope.include_drafts,
            owner=scope.owner,
            after=after,
            limit=limit,
        )
        return SubmissionPage(
            items=rows, next_after=rows[-1].position if len(rows) == limit else None
        )

    @get(
        "/submissions/{submission_id:uuid}",
        operation_id="showSubmission",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def show(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[SubmissionOut]:
        submission = records.submission(runtime, submission_id)
        found = runtime.ledger.find_recommendation(
            submission.campaign_id, submission.recommending_unit
        )
        decision = found.decision_on(submission.id) if found else ("pending", None)
        if submission.received_from is not None:
            decision = ("recommended", None)  # forwarded: the forward is its recommendation
        body = records.submission_out(submission, decision)
        return Response(body, headers={"ETag": etag(submission.version)})

    @put(
        "/submissions/{submission_id:uuid}",
        operation_id="editSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def edit(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        data: JSONBody[SubmissionIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        submission = records.own_submission(runtime, submission_id)
        edited = runtime.ledger.edit_submission(
            submission_id,
            data.form(submission.programme),
            data.recommending_unit,
            actor,
            expected_version,
        )
        return out(edited, views)

    @post(
        "/submissions/{submission_id:uuid}/submit",
        operation_id="submitSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=200,
    )
    def submit(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        records.own_submission(runtime, submission_id, speaking=True)
        return out(runtime.ledger.submit_submission(submission_id, actor, expected_version), views)

    @post(
        "/submissions/{submission_id:uuid}/resubmit",
        operation_id="resubmitSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=200,
    )
    def resubmit(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        records.own_submission(runtime, submission_id, speaking=True)
        return out(
            runtime.ledger.resubmit_submission(submission_id, actor, expected_version), views
        )

    @post(
        "/submissions/{submission_id:uuid}/withdraw",
        operation_id="withdrawSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=200,
    )
    def withdraw(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        records.own_submission(runtime, submission_id)
        return out(
            runtime.ledger.withdraw_submission(submission_id, data.reason, actor, expected_version),
            views,
        )

    @post(
        "/submissions/{submission_id:uuid}/endorse",
        operation_id="endorseSubmission",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=200,
    )
    def endorse(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        data: JSONBody[EndorsementIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        records.own_submission(runtime, submission_id, speaking=True)
        endorsed = runtime.ledger.endorse_submission(
            submission_id, data.self_evaluation, data.opinion, data.score, actor, expected_version
        )
        return out(endorsed, views)

    @post(
        "/submissions/{submission_id:uuid}/return",
        operation_id="returnSubmission",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def return_for_correction(
        self,
        submission_id: FromPath[UUID],
        data: JSONBody[CorrectionsIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        return out(
            runtime.ledger.return_submission(
                submission_id, list(data.items), actor, expected_version
            ),
            views,
        )

    @post(
        "/submissions/{submission_id:uuid}/confirm-direct-channel",
        operation_id="confirmDirectChannel",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def confirm_direct(
        self,
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[SubmissionOut]:
        return out(
            runtime.ledger.confirm_direct_channel(submission_id, actor, expected_version), views
        )


def attachment_document(
    submission: Submission, files: FileStore, sha256: str, *, inline: bool = False
) -> Stream:
    """One of a readable submission's files: downloaded (the API), or opened in the browser (the
    recommending unit's pages, formal review's frame beside the checklist: a PDF in its viewer,
    framed only by our own pages, never cached)."""
    attachment = next((a for a in submission.attachments if a.sha256 == sha256), None)
    if attachment is None or not files.exists(sha256):
        raise not_found("sha256")
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name)}",
        "Content-Length": str(attachment.size),
    }
    if inline:
        headers |= {
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": INLINE_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        }
    return Stream(files.read(sha256), media_type=attachment.content_type, headers=headers)


class AttachmentController(Controller):
    path = "/api/v1/tenants/{tenant:str}/submissions/{submission_id:uuid}/attachments"
    tags = ["submissions 成果申报"]

    @post(
        "/{kind:str}",
        operation_id="uploadAttachment",
        request_max_body_size=None,  # the campaign's limit per kind applies, while streaming
        opt=access(APPLICANT),
        status_code=HTTP_201_CREATED,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        kind: FromPath[AttachmentKind],
        name: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        files: NamedDependency[FileStore],
    ) -> Response[SubmissionOut]:
        """The file is the request body (any content type); `name` is its file name. It streams
        to the file store; the kind is checked from its content."""
        saved = await receive_attachment(
            records,
            runtime,
            files,
            actor,
            submission_id,
            kind,
            name,
            request.stream(),
            request.headers.get("content-length"),
        )
        return await sync_to_thread(out, saved, views, None, HTTP_201_CREATED)

    @get(
        "/{sha256:str}", operation_id="downloadAttachment", sync_to_thread=True, opt=access(READERS)
    )
    def download(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        files: NamedDependency[FileStore],
    ) -> Stream:
        return attachment_document(records.submission(runtime, submission_id), files, sha256)

    @delete(
        "/{sha256:str}",
        operation_id="removeAttachment",
        sync_to_thread=True,
        opt=access(APPLICANT),
        status_code=HTTP_204_NO_CONTENT,
    )
    def remove(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> None:
        records.own_submission(runtime, submission_id)
        runtime.ledger.remove_attachment(submission_id, sha256, actor)


INLINE_POLICY = "default-src 'none'; frame-ancestors 'self'"
"""An attachment opened inside a portal page (formal review shows it beside the checklist): it
may be framed by the portal's own pages only, and runs nothing of its own (ADR 0038)."""


async def receive_attachment(
    records: Records,
    runtime: TenantRuntime,
    files: FileStore,
    actor: Actor,
    submission_id: UUID,
    kind: AttachmentKind,
    name: str,
    stream: AsyncIterator[bytes],
    declared: str | None = None,
) -> Submission:
    """One attachment streamed to the file store (never held in memory), its kind checked from
    its content, and recorded; the API's upload and the portal's use this one path."""
    submission = await sync_to_thread(records.own_submission, runtime, submission_id)
    submission.check_takes(kind)  # before a byte is written: refused now, refused with it
    campaign = await sync_to_thread(runtime.ledger.get_campaign, submission.campaign_id)
    limit = campaign.rules.max_bytes(kind.value)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(kind, limit)
    try:
        received = await files.receive(stream, limit)
    except TooLarge:
        raise _too_large(kind, limit) from None
    content_type = await sync_to_thread(sniff, received)
    if content_type not in ALLOWED_CONTENT[kind]:
        files.discard(received)
        raise InvalidSubmission(
            Problem(
                "file",
                "content_type",
                f"文件内容不是允许的格式（{allowed_names(kind)}），与文件名无关",
            )
        )
    attachment = Attachment(kind, name, content_type, received.size, received.sha256)
    saved: Submission = await sync_to_thread(
        files.keep_recorded,
        received,
        partial(runtime.ledger.add_attachment, submission_id, attachment, actor),
    )
    return saved


def allowed_names(kind: AttachmentKind) -> str:
    """The formats a kind of attachment takes, as the refusal names them."""
    return "、".join(sorted(CONTENT_NAMES[c] for c in ALLOWED_CONTENT[kind]))


def _too_large(kind: AttachmentKind, limit: int) -> RequestProblem:
    return RequestProblem(
        413,
        Problem(
            "file", "max_size", f"文件超过本活动对该类附件的大小上限 {limit // (1024 * 1024)} MB"
        ),
    )
