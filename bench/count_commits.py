"""The commits in a stretch of PostgreSQL's statement log, counted exactly (issue 22 §1).

pg_stat_database.xact_commit also counts what autovacuum workers do when they visit a database
(on a server where many databases come and go, a fresh one is visited often), so the figures of
`write_cost.py` carry that noise. With `write_cost.py --log-statements` the scratch database logs
every client statement (`log_statement = all`, that database only); this reads such a stretch of
the server log on stdin and counts, per backend, COMMITs and statements run outside a
transaction (autocommit: a commit each), and ROLLBACKs:

    tail -c +$OFFSET /var/log/postgresql/postgresql-15-main.log | grep qcflow_bench_ \\
        | python bench/count_commits.py

With `--between "drafts begin" "drafts end" --per 30` it counts only the lines between the marks
that `write_cost.py --log-statements` writes (the last such stretch), per draft; the marks'
own statements are left out. Rolled-back transactions are the platform's reads (ADR 30).
"""

from __future__ import annotations

import argparse
import collections
import re
import sys

LINE = re.compile(r"\[(\d+)\].*?(?:statement|execute [^:]*): (.*)")


def stretch(lines: list[str], begin: str, end: str) -> list[str]:
    """The lines after the last `begin` mark and before the `end` mark that follows it."""
    marks = [i for i, line in enumerate(lines) if f"qcflow-bench-mark {begin}" in line]
    if not marks:
        sys.exit(f"no mark {begin!r}")
    first = marks[-1] + 1
    last = next(
        (i for i in range(first, len(lines)) if f"qcflow-bench-mark {end}" in lines[i]), len(lines)
    )
    return [line for line in lines[first:last] if "qcflow-bench-mark" not in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--between", nargs=2, metavar=("BEGIN", "END"))
    parser.add_argument("--per", type=int, default=1, help="divide the counts by this")
    args = parser.parse_args()
    lines = sys.stdin.readlines()
    if args.between:
        lines = stretch(lines, *args.between)
    in_transaction: dict[str, bool] = collections.defaultdict(bool)
    commits = rollbacks = 0
    autocommit: collections.Counter[str] = collections.Counter()
    for line in lines:
        match = LINE.search(line)
        if not match:
            continue
        backend, statement = match.group(1), match.group(2).strip()
        word = statement.split(maxsplit=1)[0].upper() if statement else ""
        if word in ("BEGIN", "START"):
            in_transaction[backend] = True
        elif word in ("COMMIT", "END"):
            commits += 1
            in_transaction[backend] = False
        elif word in ("ROLLBACK", "ABORT"):
            rollbacks += 1
            in_transaction[backend] = False
        elif not in_transaction[backend]:
            autocommit[statement[:80]] += 1
    print(
        f"commits: {commits + sum(autocommit.values())} ({commits} COMMIT, "
        f"{sum(autocommit.values())} autocommit statements); rollbacks: {rollbacks}"
    )
    if args.per > 1:
        total = commits + sum(autocommit.values())
        print(
            f"per {args.per}: commits {total / args.per:.2f}; rollbacks {rollbacks / args.per:.2f}"
        )
    for statement, count in autocommit.most_common(10):
        print(f"  {count} × {statement}")


if __name__ == "__main__":
    main()
