"""The file scenarios of `make bench`: CSV export of the benchmark user's every transaction
(rows/s, and the worker's peak RSS while it streams) and a CSV import of 100,000 rows (seconds,
all or nothing), each one request against the gunicorn server `bench.run` started.

`python -m bench.files` runs only these two, on the same seeded database and server settings.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import secrets
import signal
import subprocess
import threading
import time
import urllib.request
from datetime import date, timedelta

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
CHUNK = 1 << 16


def request(base: str, token: str, method: str, path: str, body=None, content_type=None):
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(f"{base}{path}", data=body, method=method, headers=headers)  # noqa: S310 - loopback only
    return urllib.request.urlopen(req, timeout=600)  # noqa: S310 - loopback only


class PeakRSS:
    """Samples the gunicorn workers' RSS every 50 ms while a request runs."""

    def __init__(self, master: subprocess.Popen, sizes) -> None:
        self.master, self.sizes, self.peak = master, sizes, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            # A worker restarting between listing and reading: skip that sample.
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                self.peak = max([self.peak, *self.sizes(self.master)])
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def measure_export(base: str, token: str, master, sizes) -> dict:
    rows = 0
    with PeakRSS(master, sizes) as rss:
        started = time.perf_counter()
        with request(base, token, "GET", "/users/1/transactions/export?format=csv") as response:
            while chunk := response.read(CHUNK):
                rows += chunk.count(b"\r\n")
        seconds = time.perf_counter() - started
    rows -= 1  # the header
    return {
        "scenario": "CSV export, every row",
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_worker_rss_mb": round(rss.peak, 1),
    }


def statement(rows: int) -> bytes:
    rng = random.Random(7)
    start = date(2020, 1, 1)
    lines = ["Date,Description,Payee,Amount"]
    for i in range(rows):
        day = start + timedelta(days=rng.randrange(2000))
        sign = "" if rng.random() < 0.1 else "-"
        amount = f"{sign}{rng.randint(1, 250_000) / 100:.2f}"
        lines.append(f"{day:%m/%d/%Y},Card payment {i},Shop {rng.randrange(500)},{amount}")
    return ("\r\n".join(lines) + "\r\n").encode()


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = io.BytesIO()
    body.write(f"--{boundary}\r\n".encode())
    body.write(f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode())
    body.write(b"Content-Type: text/csv\r\n\r\n")
    body.write(data)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def measure_import(base: str, token: str) -> dict:
    """Into a new account, closed afterwards (its rows go with it) so that the seeded history
    the other scenarios read stays as it was."""
    name = f"bench-import-{secrets.token_hex(4)}"
    with request(
        base,
        token,
        "POST",
        "/users/1/accounts/",
        json.dumps({"name": name}).encode(),
        "application/json",
    ) as response:
        account = json.load(response)["id"]
    body, content_type = multipart(statement(IMPORT_ROWS), "bench.csv")
    try:
        started = time.perf_counter()
        with request(
            base, token, "POST", f"/users/1/accounts/{account}/import", body, content_type
        ) as response:
            answer = json.load(response)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        with request(
            base, token, "POST", f"/users/1/accounts/{account}/import", body, content_type
        ) as response:
            again = json.load(response)
        reimport = time.perf_counter() - started
    finally:
        request(base, token, "DELETE", f"/users/1/accounts/{account}").close()
    return {
        "scenario": f"CSV import, {IMPORT_ROWS:,} rows",
        "added": answer["added"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(answer["added"] / seconds),
        "reimport_duplicates": again["duplicates"],
        "reimport_seconds": round(reimport, 2),
    }


def measure_all(base: str, token: str, master, sizes) -> list[dict]:
    return [measure_export(base, token, master, sizes), measure_import(base, token)]


def print_rows(results: list[dict]) -> None:
    for result in results:
        details = ", ".join(f"{k}={v}" for k, v in result.items() if k != "scenario")
        print(f"{result['scenario']:45} {details}")


def main() -> int:
    from bench import run

    env = run.server_env()
    run.prepare(env, int(os.environ.get("BENCH_TRANSACTIONS", "1000000")))
    app = run.gunicorn("wsgi:app", run.PORT, env)
    try:
        base = f"http://127.0.0.1:{run.PORT}"
        run.wait_for(f"{base}/openapi.json")
        results = measure_all(base, run.login(base), app, run.worker_rss_mb)
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=30)
    print_rows(results)
    return 0 if run.ledger_holds() else 1


if __name__ == "__main__":
    raise SystemExit(main())
