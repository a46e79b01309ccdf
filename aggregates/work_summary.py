"""The work summary (工作总结) of one recommending unit for a campaign: at least the campaign's
minimum length, with the seeds' three sections present."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.problems import DomainError, InvalidInput, NotFound, Problem

SUMMARY_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/work-summary")
SECTIONS = (("基本情况",), ("推进经验", "经验和做法"), ("存在问题", "改进方向"))
"""一、基本情况 二、推进经验和做法 三、存在问题及改进方向: each found by one of its words."""
SECTION_NAMES = ("基本情况", "推进经验和做法", "存在问题及改进方向")


class WorkSummaryError(DomainError):
    pass


class InvalidWorkSummary(WorkSummaryError, InvalidInput):
    pass


class WorkSummaryNotFound(WorkSummaryError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("work_summary", "not_found", "未找到该工作总结"))


def counted_characters(text: str) -> int:
    """The summary's length as the minimum counts it: characters, not spaces or line breaks."""
    return len("".join(text.split()))


def summary_problems(text: str, min_chars: int) -> list[Problem]:
    found = []
    counted = counted_characters(text)
    if counted < min_chars:
        found.append(
            Problem("text", "min_length", f"工作总结须 {min_chars} 字以上，现 {counted} 字")
        )
    found += [
        Problem("text", "section_missing", f"缺少“{name}”部分")
        for name, words in zip(SECTION_NAMES, SECTIONS, strict=True)
        if not any(word in text for word in words)
    ]
    return found


class WorkSummary(Aggregate):
    class Written(Aggregate.Created):
        campaign_id: UUID
        unit: str
        text: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: WorkSummary) -> None:
            aggregate.campaign_id, aggregate.unit, aggregate.text = (
                self.campaign_id,
                self.unit,
                self.text,
            )

    class Event(Aggregate.Event):
        """The base of every event of a WorkSummary after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Rewritten(Event):
        text: str

        def apply(self, aggregate: WorkSummary) -> None:
            aggregate.text = self.text

    if TYPE_CHECKING:
        campaign_id: UUID
        unit: str
        text: str

    @staticmethod
    def create_id(campaign_id: UUID, unit: str) -> UUID:
        return uuid5(SUMMARY_NAMESPACE, f"{campaign_id}/{unit}")

    @classmethod
    def write(
        cls, campaign: Campaign, unit: str, text: str, at: datetime, actor: Actor
    ) -> WorkSummary:
        _check(campaign, text, at)
        return cls._create(
            cls.Written,
            id=cls.create_id(campaign.id, unit),
            campaign_id=campaign.id,
            unit=unit,
            text=text,
            **actor.fields(),
        )

    def rewrite(self, campaign: Campaign, text: str, at: datetime, actor: Actor) -> None:
        _check(campaign, text, at)
        self.trigger_event(self.Rewritten, text=text, **actor.fields())

    @classmethod
    def receive(cls, campaign: Campaign, unit: str, text: str, actor: Actor) -> WorkSummary:
        """A member association's summary, forwarded to the national campaign (checked by this
        campaign's rules before it was forwarded)."""
        return cls._create(
            cls.Written,
            id=cls.create_id(campaign.id, unit),
            campaign_id=campaign.id,
            unit=unit,
            text=text,
            **actor.fields(),
        )

    def receive_revision(self, text: str, actor: Actor) -> None:
        self.trigger_event(self.Rewritten, text=text, **actor.fields())


def _check(campaign: Campaign, text: str, at: datetime) -> None:
    campaign.check_active()
    campaign.check_phase_open(Phase.RECOMMENDATION, at)
    problems = summary_problems(text, campaign.rules.work_summary_min_chars)
    if problems:
        raise InvalidWorkSummary(*problems)
