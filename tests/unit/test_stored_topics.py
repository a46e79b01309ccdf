"""Event and enum topics are stored data: every stored event names its class by topic
(module:QualName), an enum value in an event names its enum the same way, projections and
followers filter by topic, and the audit's hash chain covers the topic. Moving or renaming such a
class (or an event's field) makes the stored log unreadable or changes what it means, so the set
of topics and each event's field names are frozen in `stored_topics.txt`.

A new event or enum is added to that file on purpose; one that disappears or changes fails."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

FROZEN = Path(__file__).with_name("stored_topics.txt")
PACKAGES = ("aggregates", "tenants", "projections")
"""Where a stored class may live (an enum of tenants' is frozen too: an event may carry it)."""


def _classes(owner: object, module: str) -> Iterator[type]:
    for value in vars(owner).values():
        if inspect.isclass(value) and value.__module__ == module:
            yield value
            yield from _classes(value, module)


def _stored_classes() -> set[type]:
    found = set()
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            name = info.name
            for cls in _classes(importlib.import_module(name), name):
                if issubclass(cls, Enum | Aggregate | DomainEvent) and not _framework_base(cls):
                    found.add(cls)
    return found


def _framework_base(cls: type) -> bool:
    """An aggregate's `Event` and `Created`: the bases eventsourcing gives every aggregate (an
    `Event` of our own carries who acted). No event of ours is stored under them: each aggregate
    is created by an event of its own (Registered, Opened, Drafted ...)."""
    return issubclass(cls, DomainEvent) and cls.__qualname__.rsplit(".", 1)[-1] in (
        "Event",
        "Created",
    )


def _line(cls: type) -> str:
    """The topic; for an event, also the names of the fields it stores."""
    if issubclass(cls, DomainEvent):
        return " ".join([get_topic(cls), *sorted(f.name for f in dataclasses.fields(cls))])
    return get_topic(cls)


def _frozen() -> list[str]:
    lines = FROZEN.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_no_stored_topic_or_event_field_changes() -> None:
    current = {_line(cls) for cls in _stored_classes()}
    frozen = set(_frozen())
    gone = sorted(frozen - current)
    new = sorted(current - frozen)
    assert not gone, (
        "stored topics (or an event's fields) changed or disappeared; events and enums are "
        "stored data: never rename or move them, add new ones:\n" + "\n".join(gone)
    )
    assert not new, (
        "new stored classes: add these lines to tests/unit/stored_topics.txt "
        "(and never change them after):\n" + "\n".join(new)
    )


def test_every_frozen_topic_resolves_to_its_class() -> None:
    for line in _frozen():
        topic = line.split()[0]
        assert get_topic(resolve_topic(topic)) == topic
