"""The campaign's register of submitted entries (申报登记簿): serial numbers unique in the campaign,
and the per-unit rules that span submissions (how many results, of differing topic types).

Saved in the same transaction as the submission it numbers, so two submissions racing for the
same number or the same unit's last place cannot both succeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.campaign import REHEARSAL_MARK, Campaign, Programme
from aggregates.problems import Problem
from aggregates.submission import InvalidSubmission, SubmissionConflict
from aggregates.submission_forms import TOPIC_TYPE_NAMES_ZH, TopicType

REGISTER_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/submission-register")
PROGRAMME_CODES = {Programme.QC_GROUP: "QC", Programme.TEAM: "TEAM"}


class SubmissionRegister(Aggregate):
    class Opened(Aggregate.Created):
        campaign_id: UUID
        prefix: str

        def apply(self, aggregate: SubmissionRegister) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.prefix = self.prefix
            aggregate.issued = 0
            aggregate.entries = {}

    class NumberAssigned(Aggregate.Event):
        submission_id: UUID
        serial: str
        credit_code: str
        topic_type: str | None

        def apply(self, aggregate: SubmissionRegister) -> None:
            aggregate.issued += 1
            aggregate.entries[str(self.submission_id)] = {
                "serial": self.serial,
                "credit_code": self.credit_code,
                "topic_type": self.topic_type,
            }

    class Released(Aggregate.Event):
        submission_id: UUID
        """A withdrawn entry no longer counts for its unit; its number is never reused."""

        def apply(self, aggregate: SubmissionRegister) -> None:
            aggregate.entries.pop(str(self.submission_id), None)

    if TYPE_CHECKING:
        campaign_id: UUID
        prefix: str
        issued: int
        entries: dict[str, dict[str, Any]]

    @staticmethod
    def create_id(campaign_id: UUID) -> UUID:
        return uuid5(REGISTER_NAMESPACE, str(campaign_id))

    @classmethod
    def open(cls, campaign: Campaign) -> SubmissionRegister:
        prefix = f"{campaign.tenant.upper()}-{campaign.year}-{PROGRAMME_CODES[campaign.programme]}"
        if campaign.is_rehearsal:  # its own serials, never taken for the real year's (ADR 36)
            prefix = f"{prefix}-{REHEARSAL_MARK}"
        return cls._create(
            cls.Opened, id=cls.create_id(campaign.id), campaign_id=campaign.id, prefix=prefix
        )

    def assign(
        self, campaign: Campaign, submission_id: UUID, credit_code: str, topic_type: str | None
    ) -> str:
        """The next serial number for a submission, once the unit's limits allow it."""
        rules = campaign.rules
        if str(submission_id) in self.entries:
            raise SubmissionConflict(Problem("status", "already_submitted", "该成果已申报"))
        mine = [e for e in self.entries.values() if e["credit_code"] == credit_code]
        limit = rules.results_per_applicant_max
        if limit is not None and len(mine) >= limit:
            raise InvalidSubmission(
                Problem(
                    "results_per_applicant",
                    "max_results",
                    f"每家单位至多申报 {limit} 项成果，本单位已申报 {len(mine)} 项",
                )
            )
        same = bool(mine) and all(e["topic_type"] == topic_type for e in mine)
        if rules.distinct_topic_types and topic_type is not None and same:
            name = TOPIC_TYPE_NAMES_ZH[TopicType(topic_type)]
            raise InvalidSubmission(
                Problem(
                    "topic_type",
                    "distinct_topic_types",
                    f"本单位已申报的成果均为{name}课题，课题类型须有所差异",
                )
            )
        serial = f"{self.prefix}-{self.issued + 1:04d}"
        self.trigger_event(
            self.NumberAssigned,
            submission_id=submission_id,
            serial=serial,
            credit_code=credit_code,
            topic_type=topic_type,
        )
        return serial

    def receive(self, submission_id: UUID, credit_code: str, topic_type: str | None) -> str:
        """The next serial number for a result forwarded by a member association: the per-unit
        limits were the association's to apply, not this campaign's."""
        serial = f"{self.prefix}-{self.issued + 1:04d}"
        self.trigger_event(
            self.NumberAssigned,
            submission_id=submission_id,
            serial=serial,
            credit_code=credit_code,
            topic_type=topic_type,
        )
        return serial

    def release(self, submission_id: UUID) -> None:
        if str(submission_id) in self.entries:
            self.trigger_event(self.Released, submission_id=submission_id)

    def count(self, credit_code: str) -> int:
        return sum(1 for e in self.entries.values() if e["credit_code"] == credit_code)
