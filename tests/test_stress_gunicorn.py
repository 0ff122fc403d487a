"""The scale-out shape under load and faults: real gunicorn, two instances, one database.

A module fixture migrates a scratch database and starts two gunicorn instances (3 sync workers
each, APP_ENV=production, real secrets) on two ports. A separate process
(tests/stress_driver.py) drives thousands of mixed operations through both. Afterwards every
balance equals opening balance + the signed sum of its transactions and equals what the
driver's model of its successful operations predicts: no lost updates, no 5xx.

The fault scenarios run the same load while the database connections of every worker are
terminated (pg_terminate_backend), and while a worker is killed with SIGKILL: every request
either succeeded or changed nothing, the service recovers without a restart, and the invariant
holds. Ports: TEST_PORT_BASE (e.g. 18130) picks them from a range, else the OS does.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app, ledger
from app.extensions import db
from tests.conftest import Config, database_url, ensure_database
from tests.servers import gunicorn, production_env
from tests.stress_driver import Client

pytestmark = pytest.mark.slow  # gunicorn under load: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parent.parent
WORKERS_PER_INSTANCE = 3


def free_ports(count: int) -> list[int]:
    """`count` ports nobody listens on: from TEST_PORT_BASE upwards, or chosen by the OS."""
    base = int(os.environ.get("TEST_PORT_BASE", "0"))
    ports: list[int] = []
    candidates = iter(range(base, base + 20)) if base else iter(lambda: 0, None)
    for candidate in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            ports.append(sock.getsockname()[1])
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} free ports from {base}")


@dataclass
class Stack:
    url: str
    ports: list[int]
    servers: list[subprocess.Popen]
    app: object


def scratch_url() -> str:
    url = make_url(database_url())
    return url.set(database=f"{url.database}_stress").render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    ensure_database(url)
    target = make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()


def get(port: int, path: str):
    status, data, _ = Client([port]).call(port, "GET", path)
    return status, data


def wait_until_ready(port: int, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn on {port} exited with {server.returncode}")
        if get(port, "/readyz")[0] == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn on {port} not ready after {seconds}s")


@pytest.fixture(scope="module")
def stack():
    url = scratch_url()
    recreate_database(url)
    app = create_app(Config(url))
    with app.app_context():
        upgrade()
    # JWT secrets must be the same on both instances: they sit behind one load balancer.
    env = production_env(
        DATABASE_URL=url,
        REGISTER_RATE_LIMIT="100000 per hour",
        LOGIN_RATE_LIMIT_USER="100000 per minute",
        LOGIN_RATE_LIMIT_IP="100000 per minute",
        METRICS_ENABLED="false",
    )
    ports = free_ports(2)
    try:
        with contextlib.ExitStack() as running:
            workers = ("--workers", str(WORKERS_PER_INSTANCE))
            servers = [running.enter_context(gunicorn(port, env, *workers)) for port in ports]
            for port, server in zip(ports, servers, strict=True):
                wait_until_ready(port, server)
            yield Stack(url, ports, servers, app)
    finally:
        with app.app_context():
            db.engine.dispose()
        target = make_url(url)
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()


def register(port: int, name: str, accounts: int = 3) -> dict:
    client = Client([port])
    password = "correct horse battery staple"
    status, user, _ = client.call(port, "POST", "/users/", {"username": name, "password": password})
    assert status == 201, user
    form = urllib.parse.urlencode({"username": name, "password": password})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(conn.getresponse().read())["access_token"]
    conn.close()
    client.token = token
    account_ids = []
    for i in range(accounts):
        body = {"name": f"Shared {i}", "currency": "USD", "opening_balance": "1000.00"}
        status, account, _ = client.call(port, "POST", f"/users/{user['id']}/accounts/", body)
        assert status == 201, account
        account_ids.append(account["id"])
    return {"id": user["id"], "token": token, "account_ids": account_ids}


def drive(stack: Stack, users: list[dict], threads: int, ops: int, seed: int, tmp_path):
    """Start the driver process; returns (process, path of its result)."""
    plan = {
        "ports": stack.ports,
        "users": users,
        "threads": threads,
        "ops_per_thread": ops,
        "seed": seed,
    }
    plan_path, result_path = tmp_path / "plan.json", tmp_path / "result.json"
    plan_path.write_text(json.dumps(plan))
    out = open(result_path, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stress_driver", str(plan_path)], cwd=ROOT, stdout=out
    )
    return process, result_path


def finish(process, result_path) -> dict:
    assert process.wait(timeout=120) == 0
    return json.loads(result_path.read_text())


def effects(txn: dict) -> list[tuple[int, int]]:
    value = int(Decimal(txn["amount"]) * 100)
    if txn["type"] == "income":
        return [(txn["account_id"], value)]
    if txn["type"] == "expense":
        return [(txn["account_id"], -value)]
    return [(txn["account_id"], -value), (txn["transfer_account_id"], value)]


def check_against_model(stack: Stack, users: list[dict], result: dict) -> dict:
    """Compare the database with the driver's model; returns numbers for the summary."""
    user_ids = [u["id"] for u in users]
    with stack.app.app_context():
        rows = db.session.execute(
            sa.select(sa.text("id, opening_balance, balance"))
            .select_from(sa.text("accounts"))
            .where(sa.text("user_id = ANY(:ids)")),
            {"ids": user_ids},
        ).all()
        stored_ids = set(
            db.session.scalars(
                sa.text("SELECT id FROM transactions WHERE user_id = ANY(:ids)"), {"ids": user_ids}
            )
        )
        wrong = [w for w in ledger.verify() if w.user_id in user_ids]
        db.session.remove()
    expected = {account_id: opening for account_id, opening, _ in rows}
    for txn in result["live"]:
        for account_id, delta in effects(txn):
            expected[account_id] += delta
    actual = {account_id: balance for account_id, _, balance in rows}
    return {
        "invariant_violations": len(wrong),
        "accounts_off_model": sum(1 for a in actual if actual[a] != expected[a]),
        "cents_off_model": sum(abs(actual[a] - expected[a]) for a in actual),
        "rows_not_in_model": len(stored_ids - {t["id"] for t in result["live"]}),
        "model_rows_missing": len({t["id"] for t in result["live"]} - stored_ids),
    }


def summary(name: str, result: dict, checks: dict, faults: str = "") -> None:
    """One line of numbers; also appended to $STRESS_SUMMARY when set."""
    statuses = result["statuses"]
    fives = sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 500)
    line = (
        f"{name}: {result['operations']} operations, {result['requests']} requests in "
        f"{result['seconds']}s, 2 instances x {WORKERS_PER_INSTANCE} workers, "
        f"statuses {dict(sorted(statuses.items()))}, 5xx {fives}, retries {result['retries']}, "
        f"unknown outcomes {result['unknown_outcomes']}, {checks}"
        + (f", faults: {faults}" if faults else "")
    )
    print(line)
    if os.environ.get("STRESS_SUMMARY"):
        with open(os.environ["STRESS_SUMMARY"], "a") as out:
            out.write(line + "\n")


NO_PROBLEMS = {
    "invariant_violations": 0,
    "accounts_off_model": 0,
    "cents_off_model": 0,
    "rows_not_in_model": 0,
    "model_rows_missing": 0,
}


def test_thousands_of_mixed_operations_on_two_instances_lose_nothing(stack, tmp_path):
    users = [register(stack.ports[i % 2], f"stress{i}") for i in range(2)]
    process, result_path = drive(stack, users, threads=16, ops=200, seed=1, tmp_path=tmp_path)
    result = finish(process, result_path)
    checks = check_against_model(stack, users, result)
    summary("stress", result, checks)
    assert set(result["statuses"]) <= {"200", "201", "204"}, result["statuses"]
    assert result["violations"] == []
    assert checks == NO_PROBLEMS


def app_backends(stack: Stack) -> list[int]:
    """PostgreSQL backends serving the gunicorn workers (not this test's own connection)."""
    with stack.app.app_context():
        pids = list(
            db.session.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": make_url(stack.url).database},
            )
        )
        db.session.remove()
    return pids


def terminate(stack: Stack, pids: list[int]) -> int:
    with stack.app.app_context():
        for pid in pids:
            db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()
        db.session.remove()
    return len(pids)


def assert_recovered(stack: Stack, user: dict) -> None:
    """Without a restart: every instance answers readiness and takes a write again."""
    for port in stack.ports:
        assert all(get(port, "/readyz")[0] == 200 for _ in range(WORKERS_PER_INSTANCE * 3))
        client = Client([port], user["token"])
        body = {"account_id": user["account_ids"][0], "type": "expense", "amount": "0.01"}
        for _ in range(WORKERS_PER_INSTANCE * 2):
            status, data, _ = client.call(port, "POST", f"/users/{user['id']}/transactions/", body)
            assert status == 201, data


def test_terminating_every_database_connection_mid_load_loses_nothing(stack, tmp_path):
    users = [register(stack.ports[0], "terminated")]
    process, result_path = drive(stack, users, threads=8, ops=80, seed=2, tmp_path=tmp_path)
    terminated = 0
    time.sleep(1.0)
    for _ in range(4):
        terminated += terminate(stack, app_backends(stack))
        time.sleep(0.4)
    result = finish(process, result_path)
    checks = check_against_model(stack, users, result)
    summary("pg_terminate_backend", result, checks, f"{terminated} backends terminated")
    assert terminated > 0
    assert "500" not in result["statuses"]
    assert result["violations"] == []
    assert checks == NO_PROBLEMS
    assert_recovered(stack, users[0])


def workers_of(master_pid: int) -> list[int]:
    """The gunicorn workers this test's master started (children of its pid)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (after "pid (comm) state") is the parent pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                children.append(int(entry.name))
    return children


def test_killing_gunicorn_workers_mid_load_loses_nothing(stack, tmp_path):
    users = [register(stack.ports[0], "killed")]
    process, result_path = drive(stack, users, threads=8, ops=80, seed=3, tmp_path=tmp_path)
    killed = []
    time.sleep(1.0)
    for server in stack.servers:
        victim = workers_of(server.pid)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        time.sleep(0.5)
    result = finish(process, result_path)
    checks = check_against_model(stack, users, result)
    summary("SIGKILL worker", result, checks, f"{len(killed)} workers killed")
    assert "500" not in result["statuses"]
    assert result["violations"] == []
    assert checks == NO_PROBLEMS
    # The masters replaced their workers: no restart needed.
    for server in stack.servers:
        assert server.poll() is None
        deadline = time.monotonic() + 10
        while len(workers_of(server.pid)) < WORKERS_PER_INSTANCE and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers_of(server.pid)) == WORKERS_PER_INSTANCE
    assert_recovered(stack, users[0])
