"""`make bench`: seed (cached), start gunicorn as production does, drive it with wrk, compare.

Prints one table (scenario, requests/s, p50, p95, p99, errors, ratio to the bare-Flask ceiling
measured in the same run) and writes it as JSON under bench/results/. Environment:
BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 16),
BENCH_TRANSACTIONS (default 1,000,000), BENCH_DATABASE_URL, BENCH_PORT (default 18900).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2

from bench import files
from bench.seed import EXPECTED_BALANCES_SQL, connect, seed
from bench.settings import BENCH_PASSWORD, BENCH_USER, database_url

ROOT = Path(__file__).resolve().parent.parent
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PORT = int(os.environ.get("BENCH_PORT", "18900"))
CEILING_PORT = PORT + 1

DONE_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, '
    .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


THREAD_PART_LUA = """
local threads = 0
setup = function(thread)
  thread:set("part", threads)
  threads = threads + 1
end
"""


def lua_request(method: str, path_expr: str, body_expr: str | None, token: str) -> str:
    """A wrk script whose request() builds each request from Lua expressions."""
    body = body_expr or "nil"
    return (
        f"""
math.randomseed(os.time())
counter = 0
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer {token}"
  headers["Content-Type"] = "application/json"
  return wrk.format("{method}", {path_expr}, headers, {body})
end
"""
        + DONE_LUA
    )


def lua_list(name: str, values: list[int]) -> str:
    return f"{name} = {{{','.join(map(str, values))}}}\n"


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def settle(base: str, timeout: float = 30) -> None:
    """Wait until the server has drained what wrk left queued, so scenarios do not overlap."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.perf_counter()
        urllib.request.urlopen(f"{base}/healthz", timeout=timeout)  # noqa: S310 - loopback only
        if time.perf_counter() - started < 0.02:
            return
        time.sleep(0.5)


def wrk(url: str, script: str, connections: int = CONNECTIONS) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(base: str, name: str, script: str, connections: int = CONNECTIONS) -> dict:
    result = {"scenario": name, **wrk(base + "/", script, connections)}
    settle(base)
    return result


def login(base: str) -> str:
    data = urllib.parse.urlencode({"username": BENCH_USER, "password": BENCH_PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/token", data=data) as response:  # noqa: S310
        return json.load(response)["access_token"]


def sql_baseline(name: str, queries: list[str]) -> dict:
    """The floor: the same SQL through psycopg, one connection, back to back."""
    conn = connect()
    timings = []
    deadline = time.monotonic() + min(DURATION, 5)
    with conn.cursor() as cur:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            for query in queries:
                cur.execute(query)
                cur.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    conn.close()
    timings.sort()
    return {
        "scenario": f"sql: {name}",
        "rps": len(timings) / min(DURATION, 5),
        "errors": 0,
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95)],
        "p99_ms": timings[int(len(timings) * 0.99)],
    }


# The statements the app sends for a page: a deferred join (ids from the index, then rows),
# and the total from the maintained count when unfiltered, else a count(*).
LIST_SQL = (
    "SELECT * FROM transactions WHERE id IN (SELECT id FROM transactions WHERE user_id = 1 "
    "{where} ORDER BY {order} LIMIT 100 OFFSET {skip}) ORDER BY {order}"
)
COUNT_SQL = "SELECT count(*) FROM transactions WHERE user_id = 1 {where}"
KEPT_COUNT_SQL = "SELECT transaction_count FROM users WHERE id = 1"
FILTER_WHERE = (
    "AND date BETWEEN '2022-01-01' AND '2022-12-31' AND category_id = 5 AND type = 'expense'"
)


def sql_pair(where: str = "", order: str = "date DESC, id DESC", skip: int = 0) -> list[str]:
    count = COUNT_SQL.format(where=where) if where else KEPT_COUNT_SQL
    return [count, LIST_SQL.format(where=where, order=order, skip=skip)]


def ids(query: str) -> list[int]:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(query)
        result = [row[0] for row in cur.fetchall()]
    conn.close()
    return result


def ledger_holds() -> bool:
    """No account whose balance differs from opening balance + its transactions."""
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM ({EXPECTED_BALANCES_SQL}) e WHERE e.balance <> e.expected"
        )
        wrong = cur.fetchone()[0]
    conn.close()
    return wrong == 0


def server_env() -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        "LOGIN_RATE_LIMIT_USER": "1000 per minute",
        "LOGIN_RATE_LIMIT_IP": "1000 per minute",
        # Production refuses to start without a shared rate-limit store.
        "RATELIMIT_STORAGE_URI": os.environ.get(
            "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0"
        ),
    }


def prepare(env: dict) -> None:
    """Database created, migrated, seeded (cached) and vacuumed."""
    ensure_database()
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    seed(int(os.environ.get("BENCH_TRANSACTIONS", "1000000")))
    vacuum()  # as autovacuum would, after the previous run's writes: index-only scans need it


def main() -> int:
    if not shutil.which("wrk"):
        print("bench: wrk is missing (apt-get install wrk)", file=sys.stderr)
        return 2
    env = server_env()
    prepare(env)
    app = gunicorn("wsgi:app", PORT, env)
    ceiling = gunicorn("bench.ceiling:app", CEILING_PORT, env)
    results = []
    try:
        base = f"http://127.0.0.1:{PORT}"
        wait_for(f"{base}/openapi.json")
        wait_for(f"http://127.0.0.1:{CEILING_PORT}/")
        token = login(base)
        ceiling_result = wrk(f"http://127.0.0.1:{CEILING_PORT}/", DONE_LUA)
        ceiling_result["scenario"] = "ceiling: bare Flask"
        results.append(ceiling_result)
        txn_ids = ids(
            "SELECT id FROM transactions WHERE user_id = 1 AND type <> 'transfer' "
            "ORDER BY random() LIMIT 2000"
        )
        account_ids = ids("SELECT id FROM accounts WHERE user_id = 1 ORDER BY id")
        tx = "/users/1/transactions/"
        pick = lua_list("ids", txn_ids) + lua_list("accounts", account_ids)
        scenarios = [
            ("GET /users/me/", lua_request("GET", '"/users/me/"', None, token)),
            ("list: first page", lua_request("GET", f'"{tx}?limit=100"', None, token)),
            (
                "list: year+category+type by amount",
                lua_request(
                    "GET",
                    f'"{tx}?start_date=2022-01-01&end_date=2022-12-31&category_id=5'
                    '&transaction_type=expense&sort_by=amount&limit=100"',
                    None,
                    token,
                ),
            ),
            (
                "list: deep page skip=100000",
                lua_request("GET", f'"{tx}?skip=100000&limit=100"', None, token),
            ),
            (
                "single transaction",
                pick + lua_request("GET", f'"{tx}" .. ids[math.random(#ids)]', None, token),
            ),
            (
                "create",
                lua_request(
                    "POST",
                    f'"{tx}"',
                    '\'{"account_id": 1, "type": "expense", "amount": "12.34", '
                    '"description": "bench-create"}\'',
                    token,
                ),
            ),
            (
                "update: move to another account",
                pick
                + lua_request(
                    "PATCH",
                    f'"{tx}" .. ids[math.random(#ids)]',
                    "'{\"account_id\": ' .. accounts[math.random(#accounts)] .. '}'",
                    token,
                ),
            ),
        ]
        # The reports over the seeded history (ten years up to today), read-only: before the
        # writes below change it. One year is the last 365 days.
        today = datetime.now(UTC).date()
        year = f"start_date={today - timedelta(days=365)}&end_date={today}"
        decade = f"start_date={today - timedelta(days=3650)}&end_date={today}"
        reports = "/users/1/reports/"
        report_scenarios = [
            ("report: summary, one year", f"summary?{year}"),
            ("report: summary, ten years", f"summary?{decade}"),
            ("report: cashflow by month, one year", f"cashflow?{year}&interval=month"),
            ("report: cashflow by month, ten years", f"cashflow?{decade}&interval=month"),
            ("report: net worth by month, one year", f"net-worth?{year}&interval=month"),
            ("report: top payees, one year", f"top-payees?{year}&limit=10"),
        ]
        for name, query in report_scenarios:
            scenarios.insert(-2, (name, lua_request("GET", f'"{reports}{query}"', None, token)))
        # Deletes take seeded rows (each wrk thread its own half), reversed through the API.
        doomed = ids("SELECT id FROM transactions WHERE user_id = 1 ORDER BY random() LIMIT 50000")
        delete = lua_request("DELETE", f'"{tx}" .. ids[part + (counter - 1) * 2 + 1]', None, token)
        scenarios.append(("delete", lua_list("ids", doomed) + THREAD_PART_LUA + delete))
        first_page = lua_request("GET", f'"{tx}?limit=100"', None, token)
        for name, script in scenarios:
            results.append(measure(base, name, script))
        for connections in (16, 64):
            name = f"list: first page, {connections} connections"
            results.append(measure(base, name, first_page, connections))
        results.append(sql_baseline("first page + count", sql_pair()))
        results.append(
            sql_baseline(
                "filtered page + count", sql_pair(FILTER_WHERE, "amount_scaled DESC, id DESC")
            )
        )
        results.append(sql_baseline("deep page + count", sql_pair(skip=100_000)))
        file_results = files.measure_all(base, token, app, worker_rss_mb)
        rss = worker_rss_mb(app)
    finally:
        for process in (app, ceiling):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    for result in results:
        result["ratio_to_ceiling"] = result["rps"] / ceiling_result["rps"]
    report = {
        "when": datetime.now(UTC).isoformat(),
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "results": results,
        "files": file_results,
        "worker_rss_mb": rss,
        "ledger_holds": ledger_holds(),
        "not_measured": [],
    }
    print_table(report)
    out = ROOT / "bench/results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"bench: wrote {out.relative_to(ROOT)}")
    return 0 if report["ledger_holds"] else 1


def vacuum() -> None:
    conn = connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def ensure_database() -> None:
    url = database_url().replace("postgresql+psycopg2://", "postgresql://")
    name = urllib.parse.urlparse(url).path.lstrip("/")
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def print_table(report: dict) -> None:
    columns = ("req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "ratio")
    widths = (9, 8, 8, 8, 7, 7)
    header = f"{'scenario':45} " + " ".join(
        f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        print(
            f"{r['scenario']:45} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
            f"{r['p99_ms']:8.2f} {r['errors']:7d} {r['ratio_to_ceiling']:7.1%}"
        )
    files.print_rows(report["files"])
    print(f"worker RSS (MB): {', '.join(f'{x:.0f}' for x in report['worker_rss_mb'])}")
    print(f"ledger holds after the run: {report['ledger_holds']}")
    print(f"not measured (endpoints not built yet): {', '.join(report['not_measured'])}")


if __name__ == "__main__":
    sys.exit(main())
