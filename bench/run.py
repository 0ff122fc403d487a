"""`make bench`: seed (cached), start gunicorn as production does, drive it with wrk, compare.

Prints one table (scenario, requests/s, p50, p95, p99, errors, the floor's requests/s for the
same request, the share of the floor and of the bare-Flask ceiling, all measured in the same run)
and writes it as JSON under bench/results/. The floor (bench/floor.py) is measured right after
each scenario it has, so the two see the same machine. Environment: BENCH_DURATION (seconds per
scenario, default 10), BENCH_CONNECTIONS (default 16), BENCH_TRANSACTIONS (default 1,000,000),
BENCH_DATABASE_URL, BENCH_PORT (default 18900; the ceiling and the floor take the next two),
BENCH_ONLY (comma-separated substrings: only the scenarios whose names contain one).

`python -m bench.smoke` is the short version CI runs (bench/smoke.py).
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
from typing import Any

import psycopg2

from bench import files
from bench.seed import EXPECTED_BALANCES_SQL, connect, seed
from bench.settings import BENCH_PASSWORD, BENCH_USER, database_url

ROOT = Path(__file__).resolve().parent.parent
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
#: Alternations of a scenario and its floor (the median share is reported).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PORT = int(os.environ.get("BENCH_PORT", "18900"))
CEILING_PORT = PORT + 1
FLOOR_PORT = PORT + 2
ONLY = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
#: PERFORMANCE.md's bar: the share of the floor each scenario with a floor must reach.
BAR = 0.60

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
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue  # a worker gunicorn just replaced (gunicorn.conf.py's post_request)
        for line in status.splitlines():
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
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{DURATION}s",
            "--latency",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def cpu_ticks(pids: list[str]) -> dict[str, int]:
    """User plus system CPU, in clock ticks, of each of these processes still alive."""
    ticks = {}
    for pid in pids:
        try:
            # After the command's closing parenthesis: fields 3 on; utime and stime are 14, 15.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def postgres_pids() -> list[str]:
    """Every PostgreSQL process on this machine (its backends do the queries' work)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(entry.name)
            except OSError:
                continue
    return pids


def cpu_snapshot(master: subprocess.Popen) -> tuple[dict, dict]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return cpu_ticks(children), cpu_ticks(postgres_pids())


def cpu_per_request(before: tuple, after: tuple, requests: int) -> dict[str, float]:
    """Milliseconds of CPU a request cost the server's workers and PostgreSQL between two
    snapshots (a backend started between them counts from zero): where a request's time goes
    under load, beside the floor's."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    spent = [
        sum(ticks - start.get(pid, 0) for pid, ticks in end.items())
        for start, end in zip(before, after, strict=True)
    ]
    per = tick_ms / max(requests, 1)
    return {"python_ms": round(spent[0] * per, 3), "postgres_ms": round(spent[1] * per, 3)}


def measure(
    base: str,
    name: str,
    script: str,
    connections: int = CONNECTIONS,
    server: subprocess.Popen | None = None,
) -> dict:
    before = cpu_snapshot(server) if server else None
    result = {"scenario": name, **wrk(base + "/", script, connections)}
    if server:
        result["cpu_per_request"] = cpu_per_request(
            before, cpu_snapshot(server), result["requests"]
        )
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


def prepare(env: dict, transactions: int) -> None:
    """Database created, migrated, seeded (cached), its ledger rebuilt and vacuumed."""
    ensure_database()
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    seed(transactions)
    # The floor's writes (bench/floor.py) change rows by plain SQL, past the ledger's monthly
    # rollups: a previous run's left them out of step, and the reports read them.
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "ledger", "rebuild"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    vacuum()  # as autovacuum would, after the previous run's writes: index-only scans need it


def selected(name: str) -> bool:
    return not ONLY or any(part in name for part in ONLY)


def scenarios(token: str, transactions: int) -> list[tuple[str, Any, Any]]:
    """(name, wrk script, the floor's script or None), in the order they run.

    Reads come first, the reports before the writes change the seeded history; the floor's
    writes take their own rows, so that each side deletes as many as it can reach.
    """
    txn_ids = ids(
        "SELECT id FROM transactions WHERE user_id = 1 AND type <> 'transfer' "
        "ORDER BY random() LIMIT 2000"
    )
    account_ids = ids("SELECT id FROM accounts WHERE user_id = 1 ORDER BY id")
    tx = "/users/1/transactions/"
    pick = lua_list("ids", txn_ids) + lua_list("accounts", account_ids)
    deep = min(100_000, transactions // 2)

    def get(path_expr: str, prefix: str = "") -> str:
        return prefix + lua_request("GET", path_expr, None, token)

    create = lua_request(
        "POST",
        f'"{tx}"',
        '\'{"account_id": 1, "type": "expense", "amount": "12.34", '
        '"description": "bench-create"}\'',
        token,
    )
    update = pick + lua_request(
        "PATCH",
        f'"{tx}" .. ids[math.random(#ids)]',
        "'{\"account_id\": ' .. accounts[math.random(#accounts)] .. '}'",
        token,
    )
    # Deletes take seeded rows (each wrk thread its own half), reversed through the API; the
    # floor gets rows of its own.
    doomed = ids(
        "SELECT id FROM transactions WHERE user_id = 1 AND id <> ALL(ARRAY["
        + ",".join(map(str, txn_ids))
        + "]) ORDER BY random() LIMIT 100000"
    )
    delete = lua_request("DELETE", f'"{tx}" .. ids[part + (counter - 1) * 2 + 1]', None, token)
    # Each round its own rows (a row is deleted once).
    ours_delete = [
        lua_list("ids", doomed[0::2][n::ROUNDS]) + THREAD_PART_LUA + delete for n in range(ROUNDS)
    ]
    floor_delete = [
        lua_list("ids", doomed[1::2][n::ROUNDS]) + THREAD_PART_LUA + delete for n in range(ROUNDS)
    ]
    filtered = (
        f'"{tx}?start_date=2022-01-01&end_date=2022-12-31&category_id=5'
        '&transaction_type=expense&sort_by=amount&limit=100"'
    )
    listed = [
        ("GET /users/me/", get('"/users/me/"')),
        ("list: first page", get(f'"{tx}?limit=100"')),
        ("list: year+category+type by amount", get(filtered)),
        (f"list: deep page skip={deep}", get(f'"{tx}?skip={deep}&limit=100"')),
        ("single transaction", get(f'"{tx}" .. ids[math.random(#ids)]', pick)),
    ]
    result = [(name, script, script) for name, script in listed]
    # The reports over the seeded history (ten years up to today), read-only: before the
    # writes below change it. One year is the last 365 days.
    today = datetime.now(UTC).date()
    year = f"start_date={today - timedelta(days=365)}&end_date={today}"
    decade = f"start_date={today - timedelta(days=3650)}&end_date={today}"
    reports = "/users/1/reports/"
    for name, query in (
        ("report: summary, one year", f"summary?{year}"),
        ("report: summary, ten years", f"summary?{decade}"),
        ("report: cashflow by month, one year", f"cashflow?{year}&interval=month"),
        ("report: cashflow by month, ten years", f"cashflow?{decade}&interval=month"),
        ("report: net worth by month, one year", f"net-worth?{year}&interval=month"),
        ("report: net worth by month, ten years", f"net-worth?{decade}&interval=month"),
        ("report: top payees, one year", f"top-payees?{year}&limit=10"),
    ):
        # One request at a time (the latency the bar means), then BENCH_CONNECTIONS at once.
        result.append((f"{name}, 1 connection", get(f'"{reports}{query}"'), None))
        result.append((name, get(f'"{reports}{query}"'), None))
    result += [
        ("create", create, create),
        ("update: move to another account", update, update),
        ("delete", ours_delete, floor_delete),
    ]
    first_page = get(f'"{tx}?limit=100"')
    for connections in (16, 64):
        result.append((f"list: first page, {connections} connections", first_page, None))
    return result


def measure_pair(servers: dict, name, script, floor_script, connections) -> dict:
    """A scenario, then the floor's same request at once, BENCH_ROUNDS times in turn: both see
    the same machine, and the share reported is the median round's (a neighbour's burst in one
    round moves one share, not the verdict). The round's own numbers go with it; every share
    is kept in the JSON."""
    (base, app), (floor_base, floor_server) = servers["app"], servers["floor"]
    if floor_script is None:
        return measure(base, name, script, connections, app)
    rounds = []
    for n in range(ROUNDS):
        # A script, or one per round (the deletes: each round its own rows).
        ours = script[n] if isinstance(script, list) else script
        floors = floor_script[n] if isinstance(floor_script, list) else floor_script
        result = measure(base, name, ours, connections, app)
        floor = measure(floor_base, name, floors, connections, floor_server)
        result["floor_rps"] = floor["rps"]
        result["floor_p99_ms"] = floor["p99_ms"]
        result["floor_errors"] = floor["errors"]
        result["floor_cpu_per_request"] = floor["cpu_per_request"]
        result["share_of_floor"] = result["rps"] / floor["rps"] if floor["rps"] else 0.0
        rounds.append(result)
    ranked = sorted(rounds, key=lambda result: result["share_of_floor"])
    median = dict(ranked[len(ranked) // 2])
    median["shares_of_floor"] = [round(result["share_of_floor"], 4) for result in rounds]
    median["errors"] = sum(result["errors"] for result in rounds)
    median["floor_errors"] = sum(result["floor_errors"] for result in rounds)
    return median


def run_scenarios(env: dict, transactions: int) -> dict:
    """Start the app, the ceiling and the floor under gunicorn and measure every scenario."""
    app = gunicorn("wsgi:app", PORT, env)
    ceiling = gunicorn("bench.ceiling:app", CEILING_PORT, env)
    floor = gunicorn("bench.floor:app", FLOOR_PORT, env)
    results, file_results = [], None
    try:
        base, floor_base = f"http://127.0.0.1:{PORT}", f"http://127.0.0.1:{FLOOR_PORT}"
        wait_for(f"{base}/openapi.json")
        wait_for(f"http://127.0.0.1:{CEILING_PORT}/")
        wait_for(f"{floor_base}/healthz")
        token = login(base)
        servers = {"app": (base, app), "floor": (floor_base, floor)}
        ceiling_result = wrk(f"http://127.0.0.1:{CEILING_PORT}/", DONE_LUA)
        ceiling_result["scenario"] = "ceiling: bare Flask"
        results.append(ceiling_result)
        for name, script, floor_script in scenarios(token, transactions):
            if selected(name):
                connections = (
                    int(name.rsplit(" ", 2)[-2])
                    if name.endswith(("connections", "1 connection"))
                    else CONNECTIONS
                )
                results.append(measure_pair(servers, name, script, floor_script, connections))
        if selected("sql:"):
            results.append(sql_baseline("first page + count", sql_pair()))
            results.append(
                sql_baseline(
                    "filtered page + count", sql_pair(FILTER_WHERE, "amount_scaled DESC, id DESC")
                )
            )
        if selected("export") or selected("import"):
            file_results = files.measure_all(base, token, app, worker_rss_mb)
        rss = worker_rss_mb(app)
    finally:
        for process in (app, ceiling, floor):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    for result in results:
        result["ratio_to_ceiling"] = result["rps"] / ceiling_result["rps"]
    return {
        "when": datetime.now(UTC).isoformat(),
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "transactions": transactions,
        "bar": BAR,
        "results": results,
        "files": file_results,
        "worker_rss_mb": rss,
        "ledger_holds": ledger_holds(),
    }


def main() -> int:
    if not shutil.which("wrk"):
        print("bench: wrk is missing (apt-get install wrk)", file=sys.stderr)
        return 2
    env = server_env()
    transactions = int(os.environ.get("BENCH_TRANSACTIONS", "1000000"))
    prepare(env, transactions)
    report = run_scenarios(env, transactions)
    print_table(report)
    out = ROOT / "bench/results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
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


def verdicts(report: dict) -> list[str]:
    """PERFORMANCE.md's bar, checked on this run: the share of the floor, p99 against p50, and
    16 against 64 connections."""
    lines = []
    by_name = {r["scenario"]: r for r in report["results"]}
    for r in report["results"]:
        share = r.get("share_of_floor")
        if share is not None:
            mark = "ok  " if share >= report["bar"] else "MISS"
            lines.append(
                f"bar {mark} {r['scenario']}: {share:.0%} of the floor (bar {report['bar']:.0%})"
            )
        if r["scenario"].startswith("list: first page,") and r["p50_ms"]:
            spread = r["p99_ms"] / r["p50_ms"]
            mark = "ok  " if spread <= 4 and not r["errors"] else "MISS"
            lines.append(f"bar {mark} {r['scenario']}: p99 {spread:.1f}x p50, {r['errors']} errors")
    pair = [by_name.get(f"list: first page, {n} connections") for n in (16, 64)]
    if all(pair):
        change = pair[1]["rps"] / pair[0]["rps"] - 1
        mark = "ok  " if abs(change) <= 0.10 else "MISS"
        lines.append(f"bar {mark} throughput at 64 connections {change:+.0%} of 16 (bar ±10%)")
    return lines


def print_table(report: dict) -> None:
    columns = ("req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "floor", "of floor", "of ceil")
    widths = (8, 8, 8, 8, 6, 8, 8, 7)
    header = f"{'scenario':42} " + " ".join(
        f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        floor = f"{r['floor_rps']:8.0f}" if "floor_rps" in r else f"{'':8}"
        share = r.get("share_of_floor")
        share_text = f"{share:8.1%}" if share is not None else f"{'':8}"
        print(
            f"{r['scenario']:42} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
            f"{r['p99_ms']:8.2f} {r['errors']:6d} {floor} {share_text} "
            f"{r['ratio_to_ceiling']:7.1%}"
        )
    if report["files"]:
        files.print_rows(report["files"])
    cpu = [r for r in report["results"] if "floor_cpu_per_request" in r]
    if cpu:
        print("CPU a request, ms (median round): the app's workers + PostgreSQL | the floor's")
        for r in cpu:
            ours, floor = r["cpu_per_request"], r["floor_cpu_per_request"]
            print(
                f"  {r['scenario']:40} {ours['python_ms']:6.2f} + {ours['postgres_ms']:5.2f}"
                f" | {floor['python_ms']:6.2f} + {floor['postgres_ms']:5.2f}"
            )
    for line in verdicts(report):
        print(line)
    print(f"worker RSS (MB): {', '.join(f'{x:.0f}' for x in report['worker_rss_mb'])}")
    print(f"ledger holds after the run: {report['ledger_holds']}")


if __name__ == "__main__":
    sys.exit(main())
