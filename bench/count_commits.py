"""The commits in a stretch of PostgreSQL's statement log, counted exactly (issue 22 §1).

pg_stat_database.xact_commit also counts what autovacuum workers do when they visit a database
(on a server where many databases come and go, a fresh one is visited often), so the figures of
`write_cost.py` carry that noise. With `write_cost.py --log-statements` the scratch database logs
every client statement (`log_statement = all`, that database only); this reads such a stretch of
the server log on stdin and counts, per backend, COMMITs and statements run outside a
transaction (autocommit: a commit each), and ROLLBACKs:

    tail -c +$OFFSET /var/log/postgresql/postgresql-15-main.log | grep qcflow_bench_ \\
        | python bench/count_commits.py
"""

from __future__ import annotations

import collections
import re
import sys

LINE = re.compile(r"\[(\d+)\].*?(?:statement|execute [^:]*): (.*)")


def main() -> None:
    in_transaction: dict[str, bool] = collections.defaultdict(bool)
    commits = rollbacks = 0
    autocommit: collections.Counter[str] = collections.Counter()
    for line in sys.stdin:
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
    for statement, count in autocommit.most_common(10):
        print(f"  {count} × {statement}")


if __name__ == "__main__":
    main()
