"""Forwarding to national (推荐全国): what a provincial (or industry) association forwards from one
of its campaigns to the national campaign of the same programme and year, inside that campaign's
recommendation window and within the quota it gives the province; withdrawals; the province's
statistics table and work summary. The national intake follows these events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, CampaignConflict, Phase
from aggregates.limits import REASON_MAX_CHARS, too_long
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

FORWARDING_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/national-forwarding")
NATIONAL_SUBMISSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/national-submission")


class ForwardingError(DomainError):
    pass


class InvalidForwarding(ForwardingError, InvalidInput):
    pass


class ForwardingConflict(ForwardingError, Conflict):
    pass


class ForwardingNotFound(ForwardingError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("forwarding", "not_found", "本活动尚未推荐全国"))


def national_submission_id(origin_tenant: str, origin_submission_id: UUID) -> UUID:
    """The national submission a forwarded result becomes: derived from where it came from, so
    receiving the same forward twice can never create two."""
    return uuid5(NATIONAL_SUBMISSION_NAMESPACE, f"{origin_tenant}/{origin_submission_id}")


@dataclass(frozen=True)
class NationalCall:
    """The national campaign a province forwards to, as the province sees it: its window (the
    national campaign's 成果推荐 phase) and the quota it gives this province."""

    tenant: str
    tenant_name: str
    campaign: Campaign
    unit: str
    """The province's code among the national tenant's recommending units."""
    quota: int | None

    def check_open(self, at: datetime) -> None:
        try:
            self.campaign.check_phase_open(
                Phase.RECOMMENDATION,
                at,
                field="national_campaign",
                whose=f"{self.tenant_name}“{self.campaign.title}”的",
            )
        except CampaignConflict as closed:
            raise ForwardingConflict(*closed.problems) from None
        if self.campaign.archived:
            raise ForwardingConflict(
                Problem("national_campaign", "archived", "全国活动已归档，不能再推荐")
            )


class Forwarding(Aggregate):
    """推荐全国 of one provincial campaign: each forwarded result with what travelled with it."""

    class Started(Aggregate.Created):
        campaign_id: UUID
        tenant: str
        national_tenant: str
        national_campaign_id: UUID
        national_unit: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Forwarding) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.tenant = self.tenant
            aggregate.national_tenant = self.national_tenant
            aggregate.national_campaign_id = self.national_campaign_id
            aggregate.national_unit = self.national_unit
            aggregate.forwards = {}
            aggregate.report = None

    class Event(Aggregate.Event):
        """The base of every event of a Forwarding after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class ResultForwarded(Event):
        national_campaign_id: UUID
        submission_id: UUID
        national_submission_id: UUID
        dossier: dict[str, Any]
        """What travels: the result as filed, its grade and scores, the provincial evaluation,
        the provincial reviewer roster (see `ForwardingCommands.dossier`)."""

        def apply(self, aggregate: Forwarding) -> None:
            aggregate.forwards[str(self.submission_id)] = {
                "submission_id": self.submission_id,
                "national_submission_id": self.national_submission_id,
                "serial": self.dossier["submission"]["serial"],
                "title": self.dossier["title"],
                "unit_name": self.dossier["submission"]["applicant"].get("unit_name", ""),
                "grade_name": self.dossier["grade"]["name"],
                "evaluation": self.dossier["evaluation"],
                "forwarded_at": self.timestamp,
                "withdrawn_reason": None,
            }

    class ForwardWithdrawn(Event):
        national_campaign_id: UUID
        submission_id: UUID
        national_submission_id: UUID
        reason: str

        def apply(self, aggregate: Forwarding) -> None:
            aggregate.forwards[str(self.submission_id)]["withdrawn_reason"] = self.reason

    class ReportForwarded(Event):
        national_campaign_id: UUID
        statistics: dict[str, Any]
        """The province's statistics table (统计表) for the period, as a StatisticsForm state."""
        summary: str
        """The province's work summary (工作总结)."""

        def apply(self, aggregate: Forwarding) -> None:
            aggregate.report = {
                "statistics": dict(self.statistics),
                "summary": self.summary,
                "forwarded_at": self.timestamp,
            }

    if TYPE_CHECKING:
        campaign_id: UUID
        tenant: str
        national_tenant: str
        national_campaign_id: UUID
        national_unit: str
        forwards: dict[str, dict[str, Any]]
        report: dict[str, Any] | None

    @staticmethod
    def create_id(campaign_id: UUID) -> UUID:
        return uuid5(FORWARDING_NAMESPACE, str(campaign_id))

    @classmethod
    def start(cls, campaign: Campaign, call: NationalCall, actor: Actor) -> Forwarding:
        return cls._create(
            cls.Started,
            id=cls.create_id(campaign.id),
            campaign_id=campaign.id,
            tenant=campaign.tenant,
            national_tenant=call.tenant,
            national_campaign_id=call.campaign.id,
            national_unit=call.unit,
            **actor.fields(),
        )

    @property
    def active(self) -> list[dict[str, Any]]:
        """The forwards not withdrawn: what counts against the quota."""
        return [f for f in self.forwards.values() if f["withdrawn_reason"] is None]

    def _check_call(self, call: NationalCall, at: datetime) -> None:
        if call.campaign.id != self.national_campaign_id or call.unit != self.national_unit:
            raise ForwardingConflict(
                Problem("national_campaign", "changed", "本活动已向另一全国活动推荐")
            )
        call.check_open(at)

    def forward(
        self,
        call: NationalCall,
        submission_id: UUID,
        dossier: dict[str, Any],
        at: datetime,
        actor: Actor,
    ) -> UUID:
        """Forward one published, graded result; answers its national submission id."""
        self._check_call(call, at)
        if str(submission_id) in self.forwards:
            earlier = self.forwards[str(submission_id)]
            message = (
                "该成果已推荐全国"
                if earlier["withdrawn_reason"] is None
                else "该成果的推荐已撤回，不能再次推荐"
            )
            raise ForwardingConflict(Problem("submission_id", "already_forwarded", message))
        problems = []
        evaluation = str(dossier.get("evaluation", "")).strip()
        limit = call.campaign.rules.evaluation_max_chars
        if not evaluation:
            problems.append(Problem("evaluation", "required", "请填写省级协会推荐意见"))
        elif len(evaluation) > limit:
            problems.append(Problem("evaluation", "max_length", f"推荐意见限 {limit} 字"))
        if call.quota is not None and len(self.active) >= call.quota:
            problems.append(
                Problem(
                    "submission_id",
                    "quota",
                    f"全国活动给本协会的推荐名额为 {call.quota} 项，已用完",
                )
            )
        if problems:
            raise InvalidForwarding(*problems)
        national_id = national_submission_id(self.tenant, submission_id)
        self.trigger_event(
            self.ResultForwarded,
            national_campaign_id=self.national_campaign_id,
            submission_id=submission_id,
            national_submission_id=national_id,
            dossier={**dossier, "evaluation": evaluation},
            **actor.fields(),
        )
        return national_id

    def withdraw(
        self, submission_id: UUID, reason: str, formally_reviewed: bool, actor: Actor
    ) -> None:
        """Withdraw a forward, until the national formal review has decided on it."""
        forward = self.forwards.get(str(submission_id))
        if forward is None:
            raise ForwardingConflict(Problem("submission_id", "not_forwarded", "该成果未推荐全国"))
        if forward["withdrawn_reason"] is not None:
            raise ForwardingConflict(Problem("submission_id", "withdrawn", "该推荐已撤回"))
        if formally_reviewed:
            raise ForwardingConflict(
                Problem("submission_id", "formally_reviewed", "全国形式审查已完成，不能再撤回")
            )
        if not reason.strip():
            raise InvalidForwarding(Problem("reason", "required", "请说明撤回推荐的原因"))
        if long := too_long("reason", reason.strip(), REASON_MAX_CHARS, "撤回原因"):
            raise InvalidForwarding(*long)
        self.trigger_event(
            self.ForwardWithdrawn,
            national_campaign_id=self.national_campaign_id,
            submission_id=submission_id,
            national_submission_id=forward["national_submission_id"],
            reason=reason.strip(),
            **actor.fields(),
        )

    def forward_report(
        self,
        call: NationalCall,
        statistics: dict[str, Any],
        summary: str,
        at: datetime,
        actor: Actor,
    ) -> None:
        """The statistics table and work summary, forwarded (again, to replace them)."""
        self._check_call(call, at)
        self.trigger_event(
            self.ReportForwarded,
            national_campaign_id=self.national_campaign_id,
            statistics=statistics,
            summary=summary,
            **actor.fields(),
        )
