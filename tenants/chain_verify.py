"""Verifying a tenant's hash chain: walk the log and the chain side by side from the start,
recompute every link, and name each place where they part; then hold the chain against every
checkpoint recorded, and against any kept outside the database."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tenants.chain import GENESIS, ChainedRecorder, Checkpoint, Record

BreakKind = Literal["changed", "deleted", "inserted", "checkpoint", "expected"]
MAX_BREAKS = 100
"""Breaks listed at most (the first is what matters; the count is always given)."""


@dataclass(frozen=True)
class Break:
    """Where the log and its chain part."""

    position: int
    kind: BreakKind
    what: str
    """In words (Chinese)."""
    originator_id: str | None = None
    version: int | None = None
    topic: str | None = None


@dataclass(frozen=True)
class ChainReport:
    events: int
    """Stored events walked."""
    links: int
    head: int | None
    """The last place in the log that is on the chain."""
    head_link: str | None
    checkpoints: list[Checkpoint]
    breaks: list[Break] = field(default_factory=list)
    break_count: int = 0

    @property
    def intact(self) -> bool:
        return self.break_count == 0

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None

    @property
    def summary(self) -> str:
        """The finding in one sentence (Chinese)."""
        first = self.first_break
        if first is None:
            return f"日志完整：{self.events} 条事件均在链上，与存储相符"
        return f"发现 {self.break_count} 处断链，第一处在日志第 {first.position} 条：{first.what}"


def verify(chain: ChainedRecorder, expected: Mapping[int, str] = {}) -> ChainReport:
    """The report on the tenant's chain; `expected` maps a place in the log to the link (hex) a
    checkpoint kept elsewhere says it had."""
    breaks: list[Break] = []
    previous, events, links = GENESIS, 0, 0
    head: int | None = None
    at: dict[int, bytes] = {}
    checkpoints = chain.checkpoints()
    wanted = {c.position for c in checkpoints} | set(expected)
    for position, record, stored in pairs(chain.chained_records(), chain.links()):
        if record is not None:
            events += 1
        if stored is not None:
            links += 1
            head = position
            if position in wanted:
                at[position] = stored
        if record is not None and stored is None:
            breaks.append(
                Break(
                    position,
                    "inserted",
                    f"日志第 {position} 条事件不在链上：它不是由平台写入的（存储后插入）",
                    str(record.originator_id),
                    record.version,
                    record.topic,
                )
            )
        elif record is None and stored is not None:
            breaks.append(
                Break(position, "deleted", f"日志第 {position} 条事件已不在日志中（存储后删除）")
            )
        elif record is not None and stored is not None and record.linked_to(previous) != stored:
            breaks.append(
                Break(
                    position,
                    "changed",
                    f"日志第 {position} 条事件与其链值不符：事件内容或链在存储后被改动",
                    str(record.originator_id),
                    record.version,
                    record.topic,
                )
            )
        if stored is not None:
            previous = stored  # go on from the chain as stored: each break is named once
    for c in checkpoints:
        found = at.get(c.position)
        if found is None or found.hex() != c.link:
            made = c.made_at.isoformat(timespec="seconds")
            breaks.append(
                Break(
                    c.position,
                    "checkpoint",
                    f"{made} 记录的检查点（第 {c.position} 条）与现在的链不符：此前的日志或链被改写",
                )
            )
    for position, hex_link in expected.items():
        found = at.get(position)
        if found is None or found.hex() != hex_link.lower():
            breaks.append(
                Break(
                    position,
                    "expected",
                    f"外部保存的检查点（第 {position} 条）与现在的链不符：此前的日志或链被改写",
                )
            )
    breaks.sort(key=lambda b: b.position)
    return ChainReport(
        events=events,
        links=links,
        head=head,
        head_link=previous.hex() if head is not None else None,
        checkpoints=checkpoints,
        breaks=breaks[:MAX_BREAKS],
        break_count=len(breaks),
    )


def pairs(
    records: Iterable[Record], links: Iterable[tuple[int, bytes]]
) -> Iterator[tuple[int, Record | None, bytes | None]]:
    """The log and the chain side by side, by place: (place, record or None, link or None)."""
    records_it, links_it = iter(records), iter(links)
    record, chained = next(records_it, None), next(links_it, None)
    while record is not None or chained is not None:
        record_at = record.position if record is not None else sys.maxsize
        link_at = chained[0] if chained is not None else sys.maxsize
        at = min(record_at, link_at)
        yield (
            at,
            record if record_at == at else None,
            chained[1] if chained is not None and link_at == at else None,
        )
        if record_at == at:
            record = next(records_it, None)
        if link_at == at:
            chained = next(links_it, None)
