"""Real gunicorn servers for the tests that need one: start it with gunicorn.conf.py, wait until
it listens, always stop it; and the production-like environment most of them serve with.

The server's output is not redirected: pytest captures it with the test's own output and shows
it when the test fails.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import database_url

ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides: str) -> dict[str, str]:
    """This process's environment as APP_ENV=production on the test database, with strong
    secrets and OWASP's minimum argon2 parameters (as in the suite), plus `overrides`."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "ARGON2_TIME_COST": "2",
        "ARGON2_MEMORY_COST": "19456",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        # Production insists on a choice; one test's server counts in memory unless told.
        "RATELIMIT_STORAGE_URI": "memory://",
        **overrides,
    }


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    """Return once something listens on 127.0.0.1:`port`; raise if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


@contextmanager
def gunicorn(port: int, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen]:
    """`python -m gunicorn --config gunicorn.conf.py --bind 127.0.0.1:PORT *args wsgi:app`,
    listening; stopped on exit (SIGTERM, then SIGKILL if it has not exited after 30 s).

    Listening is not the same as serving: workers may still be booting, and a request made now
    waits in the listen queue until one of them accepts it.
    """
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", *args, "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            # gunicorn's graceful_timeout is 30 s: a clean shutdown is never cut short.
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
