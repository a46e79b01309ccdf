"""The campaign's register of submitted entries (申报登记簿): serial numbers unique in the campaign,
and the per-unit rules that span submissions (how many results, of differing topic types; the
least number of results, which holds when the submission window closes, not at each submission).

Saved in the same transaction as the submission it numbers, so two submissions racing for the
same number or the same unit's last place cannot both succeed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ResultsCount:
    """An applicant unit's filed results (withdrawn ones no longer count) against the campaign's
    least number (成果数量：每家单位至少申报的成果数)."""

    credit_code: str
    results: int
    minimum: int
    blocking: bool
    """The campaign refuses a formal-review pass below the minimum (else it is only shown)."""

    @property
    def met(self) -> bool:
        return self.results >= self.minimum

    def item(self) -> str:
        """The formal-review checklist item as the reviewer reads it (computed, not ticked)."""
        return f"申报单位成果数量：已申报 {self.results} 项，本活动要求至少 {self.minimum} 项"

    def problem(self) -> Problem:
        return Problem(
            "results_per_applicant_min",
            "below_minimum",
            f"本单位申报成果 {self.results} 项，少于本活动要求的至少 {self.minimum} 项",
        )


def results_count(
    campaign: Campaign, register: SubmissionRegister | None, credit_code: str
) -> ResultsCount:
    """The one home of the least-results rule: how many results the unit has filed, against the
    campaign's minimum."""
    rules = campaign.rules
    return ResultsCount(
        credit_code,
        register.count(credit_code) if register is not None else 0,
        rules.results_per_applicant_min,
        rules.results_per_applicant_min_blocking,
    )


def below_minimum(campaign: Campaign, register: SubmissionRegister | None) -> list[ResultsCount]:
    """The applicant units that filed results but fewer than the campaign's minimum, by credit
    code (a unit that filed none is not on the register)."""
    counts = Counter(e["credit_code"] for e in (register.entries if register else {}).values())
    return short_of_minimum(campaign, counts)


def short_of_minimum(campaign: Campaign, counts: Mapping[str, int]) -> list[ResultsCount]:
    """Of the units' counts of filed, not withdrawn, results (by credit code), those below the
    campaign's minimum: the register's counts, or a read model's that mirror them."""
    rules = campaign.rules
    found = [
        ResultsCount(
            code, n, rules.results_per_applicant_min, rules.results_per_applicant_min_blocking
        )
        for code, n in sorted(counts.items())
        if n
    ]
    return [c for c in found if not c.met]


def check_results_minimum(
    campaign: Campaign, register: SubmissionRegister | None, credit_code: str
) -> None:
    """Refuse a formal-review pass when the campaign makes the minimum blocking and the unit is
    below it."""
    found = results_count(campaign, register, credit_code)
    if found.blocking and not found.met:
        raise InvalidSubmission(found.problem())
