"""The containers, run: build the image, start docker-compose.yml's stack on a real Docker
engine, use the API through its published port, then the `scale` profile, a restart and new
containers on the same volume, which keep the data; `docker compose down -v` at the end,
whatever happened.

Images: each of PYTHON_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE as set in the
environment; when unset, the official image if the engine has it (`docker compose pull`),
else the Debian stand-in that docker/local-images.sh builds (cached). The app installs from
wheels/, which `make wheels` brings up to date first, so the build needs no index.

Without a Docker engine (with the compose plugin) the test skips, except under CI (CI=true),
where it fails: .ci/run installs and starts one (docker/setup-engine.sh).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
#: One project per run: two runs on one Docker engine (two clones, two engineers) never touch
#: each other's containers; one left half-way by a killed pytest is removed by the next run
#: (remove_stale_projects).
PROJECT_PREFIX = "finance-systemtest-"
PROJECT = f"{PROJECT_PREFIX}{os.getpid()}"
# variable -> (official image, stand-in from docker/local-images.sh)
IMAGES = {
    "PYTHON_IMAGE": "python:3.11-slim",
    "POSTGRES_IMAGE": "postgres:15",
    "REDIS_IMAGE": "redis:7-alpine",
    "NGINX_IMAGE": "nginx:1.27-alpine",
}
SERVICES = {"db", "redis", "app"}
SCALED_SERVICES = SERVICES | {"replica", "nginx"}
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.slow


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the system test must run; .ci/run sets Docker up)")
    pytest.skip(reason)


def run(*command: str, timeout: float, env: dict | None = None, check: bool = True):
    """A command to completion within `timeout` seconds; its output is kept for the report."""
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image_present(image: str) -> bool:
    return run("docker", "image", "inspect", image, timeout=30, check=False).returncode == 0


def choose_images() -> dict[str, str]:
    chosen = {name: os.environ[name] for name in IMAGES if os.environ.get(name)}
    missing = [name for name in IMAGES if name not in chosen and not image_present(IMAGES[name])]
    chosen |= {name: IMAGES[name] for name in IMAGES if name not in chosen and name not in missing}
    if missing:
        if shutil.which("debootstrap") is None:
            unavailable(f"no {', '.join(IMAGES[n] for n in missing)} and no debootstrap")
        built = run(str(ROOT / "docker" / "local-images.sh"), timeout=1500).stdout
        standins = dict(line.split("=", 1) for line in built.split())
        chosen |= {name: standins[name] for name in missing}
    return chosen


def remove_stale_projects() -> None:
    """Take down every earlier run's project whose pytest process is gone."""
    listed = run("docker", "compose", "ls", "--all", "--format", "json", timeout=60).stdout
    for project in json.loads(listed or "[]"):
        name = project["Name"]
        suffix = name.removeprefix(PROJECT_PREFIX)
        if name == suffix or not suffix.isdigit() or Path(f"/proc/{suffix}").exists():
            continue
        run(
            "docker",
            "compose",
            "--project-name",
            name,
            "down",
            "--volumes",
            "--remove-orphans",
            "--timeout",
            "5",
            timeout=120,
            check=False,
        )


class Compose:
    """`docker compose` for this project, with an environment of its own: the developer's
    shell (its secrets, a COMPOSE_FILE) does not leak in."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            **{k: v for k, v in os.environ.items() if k.startswith("DOCKER_")},
            **variables,
        }

    def __call__(self, *args: str, timeout: float = 300, check: bool = True, scale=False):
        profile = ("--profile", "scale") if scale else ()
        return run(
            "docker",
            "compose",
            "--project-name",
            PROJECT,
            "--project-directory",
            str(ROOT),
            "--file",
            str(ROOT / "docker-compose.yml"),
            *profile,
            *args,
            timeout=timeout,
            env=self.env,
            check=check,
        )

    def wait_healthy(self, expected: set[str], scale=False) -> str:
        """`up --wait` (every container running and, with a health check, healthy), then the
        same seen in `ps`: every expected service present, every container healthy."""
        self("up", "--detach", "--wait", "--wait-timeout", "240", timeout=300, scale=scale)
        rows = [
            json.loads(line)
            for line in self("ps", "--format", "json", scale=scale).stdout.splitlines()
            if line.strip()
        ]
        assert {row["Service"] for row in rows} == expected, rows
        unhealthy = [(row["Name"], row["Status"]) for row in rows if row["Health"] != "healthy"]
        assert unhealthy == [], unhealthy
        return self("ps", scale=scale).stdout

    def published(self, service: str, port: int) -> int:
        address = self("port", service, str(port)).stdout.strip()
        host, _, published = address.rpartition(":")
        assert host == "127.0.0.1", f"{service}:{port} is published on {address}, not loopback"
        return int(published)


class Api:
    """JSON over HTTP to 127.0.0.1, with the status code and headers of each answer."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token: str | None = None

    def call(self, method: str, path: str, body=None, form=None, request_id=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if request_id:
            headers["X-Request-ID"] = request_id
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, self.decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, self.decode(error.read())

    @staticmethod
    def decode(body: bytes):
        """JSON from the app; anything else (a proxy's HTML page) as text, for the message."""
        try:
            return json.loads(body or b"null")
        except ValueError:
            return body.decode(errors="replace")[:500]

    def ok(self, method: str, path: str, expected: int = 200, **kw):
        status, headers, payload = self.call(method, path, **kw)
        assert status == expected, (method, path, status, payload)
        return payload, headers

    def login(self, username: str) -> None:
        self.token = None
        payload, _ = self.ok("POST", "/token", form={"username": username, "password": PASSWORD})
        self.token = payload["access_token"]


def save(name: str, text: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(text)


def test_the_compose_stack_serves_scales_and_keeps_its_data():
    started = time.monotonic()
    if shutil.which("docker") is None:
        unavailable("no docker command")
    if run("docker", "info", timeout=60, check=False).returncode != 0:
        unavailable("no Docker engine answers (docker info)")
    if run("docker", "compose", "version", timeout=60, check=False).returncode != 0:
        unavailable("no docker compose plugin")
    # Always: a wheelhouse from before a new requirement would fail the offline install
    # (pip download keeps what it has, so this takes seconds once filled).
    run("make", "wheels", timeout=600)

    compose = Compose(
        {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
            "APP_PORT": str(free_port()),
            "NGINX_PORT": str(free_port()),
            # Two cores here: two workers per app container are plenty.
            "GUNICORN_WORKERS": "2",
            **choose_images(),
        }
    )
    remove_stale_projects()
    volumes_before = set(run("docker", "volume", "ls", "--quiet", timeout=30).stdout.split())
    try:
        compose("build", timeout=1200)

        # --- db, redis, app: healthy, published on 127.0.0.1 only --------------------------
        ps = compose.wait_healthy(SERVICES)
        save("compose-ps.txt", ps)
        api = Api(compose.published("app", 8000))
        assert api.ok("GET", "/readyz")[0]["status"] == "ok"

        username = f"ada{uuid.uuid4().hex[:8]}"
        user, _ = api.ok(
            "POST",
            "/users/",
            201,
            body={"username": username, "password": PASSWORD, "email": f"{username}@example.com"},
        )
        api.login(username)
        base = f"/users/{user['id']}"
        account, _ = api.ok(
            "POST",
            f"{base}/accounts/",
            201,
            body={
                "name": "Checking",
                "type": "checking",
                "currency": "EUR",
                "opening_balance": "100.00",
            },
        )
        first, _ = api.ok(
            "POST",
            f"{base}/transactions/",
            201,
            body={
                "account_id": account["id"],
                "type": "expense",
                "amount": "12.34",
                "date": "2026-11-03",
                "description": "Flat white",
            },
        )
        listed, headers = api.ok("GET", f"{base}/transactions/")
        assert headers["X-Total-Count"] == "1"
        assert [t["id"] for t in listed] == [first["id"]]
        assert listed[0]["amount"] == "12.34"
        balance = api.ok("GET", f"{base}/accounts/{account['id']}")[0]["balance"]
        assert balance == "87.66"

        # --- scale: two replicas behind nginx, one database --------------------------------
        ps = compose.wait_healthy(SCALED_SERVICES, scale=True)
        save("compose-ps-scale.txt", ps)
        proxied = Api(compose.published("nginx", 80))
        proxied.login(username)  # the user made through `app` logs in through a replica
        marker = uuid.uuid4().hex[:12]
        for i in range(8):
            listed, _ = proxied.ok("GET", f"{base}/transactions/", request_id=f"{marker}-{i}")
            assert [t["id"] for t in listed] == [first["id"]]
        second, _ = proxied.ok(
            "POST",
            f"{base}/transactions/",
            201,
            body={
                "account_id": account["id"],
                "type": "income",
                "amount": "50.00",
                "date": "2026-11-04",
                "description": "Refund",
            },
        )
        # Written through a replica, read through `app`: the same database.
        assert api.ok("GET", f"{base}/accounts/{account['id']}")[0]["balance"] == "137.66"
        # Each replica logs the requests it served, with the X-Request-ID nginx passed on.
        logs = compose("logs", "--no-color", "replica", scale=True).stdout
        served = {
            line.split("|", 1)[0].strip()
            for line in logs.splitlines()
            if f'"request_id": "{marker}-' in line and '"status": 200' in line
        }
        assert served == {"replica-1", "replica-2"}, f"answered by {served or 'none'}"

        # --- a restart of app, then new containers: the data stays ------------------------
        compose("restart", "app", timeout=120, scale=True)
        compose.wait_healthy(SCALED_SERVICES, scale=True)
        listed, headers = api.ok("GET", f"{base}/transactions/")
        assert headers["X-Total-Count"] == "2"
        assert {t["id"] for t in listed} == {first["id"], second["id"]}

        # Every container goes (with its anonymous volumes, such as Redis's /data), the named
        # pgdata volume stays; new containers find the data on it.
        compose("rm", "--stop", "--force", "--volumes", scale=True, timeout=120)
        ps = compose.wait_healthy(SERVICES)
        api = Api(compose.published("app", 8000))
        api.login(username)
        assert api.ok("GET", f"{base}/accounts/{account['id']}")[0]["balance"] == "137.66"
    finally:
        # Shown by pytest when the test fails; kept under test-artifacts/ either way.
        logs = compose("logs", "--no-color", "--tail", "300", scale=True, check=False).stdout
        save("compose-logs.txt", logs)
        print(logs[-20000:])
        down = compose(
            "down", "--volumes", "--remove-orphans", "--timeout", "30", scale=True, check=False
        )
    assert down.returncode == 0, down.stderr
    # Named (pgdata) and anonymous (the images' VOLUMEs) alike.
    left = set(run("docker", "volume", "ls", "--quiet", timeout=30).stdout.split()) - volumes_before
    assert left == set(), f"down -v left volumes: {left}"
    containers = run(
        "docker",
        "ps",
        "--all",
        "--quiet",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        timeout=30,
    ).stdout.split()
    assert containers == [], f"down left containers: {containers}"
    print(f"system test: {time.monotonic() - started:.0f}s")
