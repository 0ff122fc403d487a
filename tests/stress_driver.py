"""Load driver for tests/test_stress_gunicorn.py, run in a separate process.

    python -m tests.stress_driver plan.json  > result.json

The plan names the ports (one per gunicorn instance), the users (token, id, account ids), how
many threads and operations. Each thread creates, edits and deletes its own transactions on its
user's shared accounts, over plain http.client, spreading requests across the ports, and keeps
a model of what it believes exists. Every POST carries an Idempotency-Key, so a request whose
outcome is unknown (the connection dropped: a killed worker) is retried with the same key and
counted exactly once. The result reports every status seen, the live transactions, and any
violation of "a request either succeeded or changed nothing".
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

MAX_ATTEMPTS = 30
CONNECTION_LOST = "connection lost"


class Client:
    """Keep-alive-free http.client calls to several ports, one connection per port."""

    def __init__(self, ports: list[int], token: str | None = None) -> None:
        self.connections = {
            port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in ports
        }
        self.token = token

    def call(self, port: int, method: str, path: str, body=None, headers=None):
        """(status, json, headers); status is CONNECTION_LOST when no answer came back."""
        conn = self.connections[port]
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            return CONNECTION_LOST, None, {}
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None  # not our JSON: gunicorn's own error page, say
        return response.status, parsed, dict(response.getheaders())


def random_body(rng: random.Random, account_ids: list[int]) -> dict:
    type_ = rng.choice(["income", "expense", "transfer", "transfer"])
    source, destination = rng.sample(account_ids, 2)
    body = {
        "account_id": source,
        "type": type_,
        "amount": str(Decimal(rng.randint(1, 5000)) / 100),
    }
    if type_ == "transfer":
        body["transfer_account_id"] = destination
    return body


class Worker:
    def __init__(self, plan: dict, index: int) -> None:
        user = plan["users"][index % len(plan["users"])]
        self.user = user
        self.ports = plan["ports"]
        self.client = Client(self.ports, user["token"])
        self.rng = random.Random(plan.get("seed", 0) * 1000 + index)
        self.ops = plan["ops_per_thread"]
        self.mine: dict[int, dict] = {}
        self.statuses: Counter = Counter()
        self.violations: list[str] = []
        self.unknown_outcomes = 0
        self.retries = 0

    def send(self, method: str, path: str, body=None, headers=None, done=(200, 201, 204)):
        """Send until an answer in `done` or a 4xx; returns (final status, json, headers, history).

        A 503 or a lost connection is retried (same body, same Idempotency-Key).
        """
        history = []
        for attempt in range(MAX_ATTEMPTS):
            port = self.rng.choice(self.ports)
            status, data, response_headers = self.client.call(port, method, path, body, headers)
            self.statuses[str(status)] += 1
            history.append(status)
            if status in done or (isinstance(status, int) and 400 <= status < 500):
                return status, data, response_headers, history
            self.retries += 1
            if status == CONNECTION_LOST:
                self.unknown_outcomes += 1
            time.sleep(0.02 * (attempt + 1))
        return status, data, response_headers, history

    def run(self) -> dict:
        base = f"/users/{self.user['id']}/transactions/"
        accounts = self.user["account_ids"]
        for _ in range(self.ops):
            roll = self.rng.random()
            if roll < 0.5 or not self.mine:
                key = str(uuid.uuid4())
                status, data, headers, history = self.send(
                    "POST", base, random_body(self.rng, accounts), {"Idempotency-Key": key}
                )
                if status == 201:
                    self.mine[data["id"]] = data
                    answered_5xx = any(isinstance(s, int) and s >= 500 for s in history[:-1])
                    if headers.get("Idempotent-Replayed") == "true" and answered_5xx:
                        self.violations.append(f"POST {key}: a 5xx had created it {history}")
                else:
                    self.violations.append(f"POST {key}: ended {history}")
            elif roll < 0.75:
                txn_id = self.rng.choice(sorted(self.mine))
                body = random_body(self.rng, accounts)
                if body["type"] != "transfer":
                    body["transfer_account_id"] = None
                status, data, _, history = self.send("PATCH", f"{base}{txn_id}", body)
                if status == 200:
                    self.mine[txn_id] = data
                else:
                    self.violations.append(f"PATCH {txn_id}: ended {history}")
            elif roll < 0.9:
                txn_id = self.rng.choice(sorted(self.mine))
                status, _, _, history = self.send("DELETE", f"{base}{txn_id}")
                if status == 404 and CONNECTION_LOST in history:
                    status = 204  # an attempt whose answer was lost had deleted it
                elif status == 404 and len(history) > 1:
                    self.violations.append(f"DELETE {txn_id}: a 5xx had deleted it {history}")
                if status in (204, 404):
                    self.mine.pop(txn_id, None)
                else:
                    self.violations.append(f"DELETE {txn_id}: ended {history}")
            else:
                account_id = self.rng.choice(accounts)
                path = f"/users/{self.user['id']}/accounts/{account_id}"
                self.send("GET", path)
        return {
            "statuses": dict(self.statuses),
            "live": list(self.mine.values()),
            "violations": self.violations,
            "unknown_outcomes": self.unknown_outcomes,
            "retries": self.retries,
        }


def run(plan: dict) -> dict:
    threads = plan["threads"]
    started = time.monotonic()
    barrier = threading.Barrier(threads)

    def work(index):
        worker = Worker(plan, index)
        barrier.wait()
        return worker.run()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(work, range(threads)))
    statuses = sum((Counter(r["statuses"]) for r in results), Counter())
    return {
        "operations": threads * plan["ops_per_thread"],
        "requests": sum(statuses.values()),
        "statuses": dict(statuses),
        "live": [txn for r in results for txn in r["live"]],
        "violations": [v for r in results for v in r["violations"]],
        "unknown_outcomes": sum(r["unknown_outcomes"] for r in results),
        "retries": sum(r["retries"] for r in results),
        "seconds": round(time.monotonic() - started, 2),
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as plan_file:
        json.dump(run(json.load(plan_file)), sys.stdout)
