"""The bench smoke CI runs after the test suite: a regression guard, not a measurement.

20,000 transactions in a database of its own (created fresh each time, so no other branch's
migrations are in the way), a few seconds a scenario, and every scenario that has a floor must
reach half its bar as a share of the floor measured in the same run (30 % where the bar is
60 %), with no errors, and the ledger must hold afterwards. Never an absolute time: these
machines move 4x from day to day, the ratio to a floor run beside it does not.
"""

from __future__ import annotations

import os
import sys
import urllib.parse

os.environ.setdefault("BENCH_TRANSACTIONS", "20000")
os.environ.setdefault("BENCH_DURATION", "3")
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/finance_bench_smoke"
)
os.environ.setdefault(
    "BENCH_ONLY",
    "GET /users/me/,list: first page,list: year,list: deep,single transaction,create,update,delete",
)

import psycopg2  # noqa: E402

from bench import run  # noqa: E402
from bench.settings import database_url  # noqa: E402

GUARD = run.BAR / 2


def recreate_database() -> None:
    url = database_url().replace("postgresql+psycopg2://", "postgresql://")
    name = urllib.parse.urlparse(url).path.lstrip("/")
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def failures(report: dict) -> list[str]:
    problems = []
    for result in report["results"]:
        if "floor_rps" not in result:
            continue  # measured for the table; the guard is on the scenarios with a floor
        share = result["share_of_floor"]
        if result["errors"] or result["floor_errors"]:
            problems.append(f"{result['scenario']}: {result['errors']} errors")
        if share < GUARD:
            problems.append(
                f"{result['scenario']}: {share:.0%} of the floor, under the guard of {GUARD:.0%}"
            )
    if not report["ledger_holds"]:
        problems.append("a balance no longer equals its opening balance plus its transactions")
    return problems


def main() -> int:
    if not run.shutil.which("wrk"):
        print("bench smoke: wrk is missing (apt-get install wrk)", file=sys.stderr)
        return 2
    recreate_database()
    env = run.server_env()
    transactions = int(os.environ["BENCH_TRANSACTIONS"])
    run.prepare(env, transactions)
    report = run.run_scenarios(env, transactions)
    run.print_table(report)
    problems = failures(report)
    for problem in problems:
        print(f"bench smoke: FAILED {problem}", file=sys.stderr)
    if not problems:
        print(f"bench smoke: passed, every scenario at or above {GUARD:.0%} of its floor")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
