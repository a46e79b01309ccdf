"""How `make test` shares the suite among its processes (pytest-xdist): the longest work first.

xdist's `--dist loadfile` hands out whole modules, by default the modules with the most tests
first. Here that puts the browser journeys, two long tests each (one per backend), last: the
run ended with one process finishing them alone. This scheduler instead:
- makes a module's SQLite and PostgreSQL halves separate pieces of work, so that the two halves
  of a long journey run side by side (each half keeps its module-scoped situation);
- hands out the longest pieces first, by the seconds each took in a measured run
  (`tests/durations.json`, made by `python -m tests.scheduling JUNIT_XML`); a piece not measured
  yet counts as its tests times the average test of its folder.
Which process runs what changes only the run's length, never its outcome.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

DURATIONS = Path(__file__).with_name("durations.json")

BACKEND = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgres|two_servers)(?:-[^\]]*)?\]$")
"""A backend among a test's parameters (`test_x[postgres]`, `test_y[sqlite-applicant]`)."""

UNMEASURED = {"tests/e2e/": 40.0, "tests/integration/": 5.0, "tests/api/": 2.0}
"""Seconds a test not yet in `durations.json` is taken to last, by folder (else 0.5)."""


def piece(nodeid: str) -> str:
    """The piece of work a test belongs to: its module, and its backend if it has one."""
    module, _, name = nodeid.partition("::")
    backend = BACKEND.search(name)
    return f"{module}[{backend.group(1)}]" if backend else module


class LongestFirst(LoadScopeScheduling):
    def __init__(self, config: object, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self._ordered = False
        self._measured: dict[str, float] = (
            json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
        )

    def _split_scope(self, nodeid: str) -> str:
        return piece(nodeid)

    def _cost(self, scope: str, tests: int) -> float:
        if scope in self._measured:
            return self._measured[scope]
        folder = next((f for f in UNMEASURED if scope.startswith(f)), None)
        return tests * (UNMEASURED[folder] if folder else 0.5)

    def _assign_work_unit(self, node: object) -> None:
        if not self._ordered:  # the queue is complete by the first assignment
            self.workqueue = OrderedDict(
                sorted(self.workqueue.items(), key=lambda item: -self._cost(item[0], len(item[1])))
            )
            self._ordered = True
        super()._assign_work_unit(node)  # type: ignore[arg-type]


def measured(junit_xml: Path) -> dict[str, float]:
    """Seconds per piece of work in a run's JUnit XML (`pytest --junitxml`)."""
    seconds: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit_xml).getroot().iter("testcase"):  # noqa: S314 (our own run)
        module = case.get("classname", "").replace(".", "/") + ".py"
        seconds[piece(f"{module}::{case.get('name', '')}")] += float(case.get("time", 0))
    return {scope: round(s, 1) for scope, s in sorted(seconds.items())}


if __name__ == "__main__":
    DURATIONS.write_text(json.dumps(measured(Path(sys.argv[1])), indent=0) + "\n")
