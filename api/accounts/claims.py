"""An enterprise claim's plumbing (ADR 0017): its documents received into the tenant's file store
(checked by content), and the mail that tells an enterprise's accounts that someone claims it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from aggregates.account import Account, AccountStatus, InvalidAccount
from aggregates.enterprise_claim import CLAIM_DOCUMENT_NAMES_ZH, ClaimDocument, ClaimFile
from aggregates.problems import Problem
from api.accounts.auth_store import AuthStore
from api.accounts.schemas import CLAIM_FILE_MAX_BYTES, ClaimFileIn
from projections.enterprise_accounts import speaking_accounts
from projections.service import TenantViews
from tenants.files import JPEG, PDF, PNG, FileStore, Received, sniff

CLAIM_CONTENT = {PDF, JPEG, PNG}


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


@asynccontextmanager
async def received_documents(
    files: FileStore, documents: dict[ClaimDocument, ClaimFileIn]
) -> AsyncIterator[list[ClaimFile]]:
    """The claim's documents, received and checked; kept only if the block succeeds (a refused
    registration keeps no file)."""
    received: list[Received] = []
    try:
        claim_files = []
        for document, upload in documents.items():
            taken = await files.receive(_once(upload.content), CLAIM_FILE_MAX_BYTES)
            received.append(taken)
            content_type = sniff(taken)
            if content_type not in CLAIM_CONTENT:
                raise InvalidAccount(
                    Problem(
                        f"{document.value}.content",
                        "content_type",
                        f"{CLAIM_DOCUMENT_NAMES_ZH[document]}须为 PDF、JPEG 或 PNG 文件",
                    )
                )
            claim_files.append(
                ClaimFile(document, upload.name.strip(), content_type, taken.size, taken.sha256)
            )
        yield claim_files
    except BaseException:
        for taken in received:
            files.discard(taken)
        raise
    for taken in received:
        files.keep(taken)


def tell_the_enterprise(
    views: TenantViews, store: AuthStore, claimant: Account, credit_code: str, at: datetime
) -> int:
    """Mail every active account that speaks for the enterprise: someone claims to speak for it
    too. Answers how many were told."""
    runtime = views.runtime
    views.wait(runtime.ledger.recorder.max_notification_id())
    tenant = runtime.tenant
    told = 0
    for account_id in speaking_accounts(views.db("enterprise_accounts"), credit_code):
        if account_id == claimant.id:
            continue
        account = runtime.ledger.get_account(account_id)
        if account.status is not AccountStatus.ACTIVE or credit_code not in account.speaks_for():
            continue
        body = (
            f"{account.name}，您好：\n\n"
            f"有人在{tenant.name_zh}平台申请代表贵单位（{account.enterprise_name(credit_code)}，"
            f"统一社会信用代码 {credit_code}）：\n"
            f"姓名：{claimant.name}\n登录名：{claimant.login}\n\n"
            "该账号须经核验营业执照和加盖公章的授权委托书后，方可查看和办理贵单位的申报。"
            "如此人并非贵单位授权人员，请尽快联系秘书处。\n"
            f"{tenant.name_zh}"
        )
        store.queue_mail(account.login, f"【{tenant.short_name_zh}】有人申请代表贵单位", body, at)
        told += 1
    return told


def tell_the_claimant(
    views: TenantViews, store: AuthStore, account: Account, credit_code: str, at: datetime
) -> None:
    """Mail the claimant the verifier's decision."""
    tenant = views.runtime.tenant
    claim = account.claim(credit_code)
    if claim is None:
        return
    outcome = (
        "已通过核验，您现在可以查看和办理本单位的申报。"
        if credit_code in account.speaks_for()
        else f"未通过核验。原因：{claim.reason}"
    )
    body = (
        f"{account.name}，您好：\n\n您代表{claim.enterprise_name}（{credit_code}）的申请{outcome}\n"
        f"\n{tenant.name_zh}"
    )
    store.queue_mail(account.login, f"【{tenant.short_name_zh}】单位身份核验结果", body, at)
