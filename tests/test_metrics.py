"""Prometheus metrics at /metrics: off by default, counting by route template when on, and
added up across gunicorn workers in multiprocess mode."""

from __future__ import annotations

import os
import re
import urllib.request

import pytest

from app import create_app
from tests.conftest import Config, database_url
from tests.servers import gunicorn

#: 18181, or 18181 + n for pytest-xdist worker gwN (this project's ports are 18170-18189).
GUNICORN_PORT = 18181 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


class MetricsConfig(Config):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.METRICS_ENABLED = True


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if match and match[1] == name:
            found = ",".join(sorted(match[2].split(",")))
            if found == wanted:
                return float(match[3])
    return 0.0


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_count_requests_by_route_template_and_status():
    client = create_app(MetricsConfig(database_url())).test_client()
    labels = {"method": "GET", "path": "/users/<int:user_id>/accounts/", "status": "401"}
    before = sample(client.get("/metrics").get_data(as_text=True), "http_requests_total", **labels)

    client.get("/users/1/accounts/")
    client.get("/users/2/accounts/")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert sample(text, "http_requests_total", **labels) == before + 2
    assert sample(text, "http_request_duration_seconds_count", **labels) == before + 2


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


@pytest.mark.usefixtures("app")  # the database exists and is migrated
@pytest.mark.slow  # starts gunicorn
def test_metrics_add_up_every_gunicorn_worker_in_multiprocess_mode(tmp_path):
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "TEST_DATABASE_URL": database_url(),
        "METRICS_ENABLED": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    with gunicorn(GUNICORN_PORT, env, "--workers", "2", "--log-level", "warning"):
        for _ in range(20):
            get(GUNICORN_PORT, "/openapi.json")
        text = get(GUNICORN_PORT, "/metrics")

    labels = {"method": "GET", "path": "/openapi.json", "status": "200"}
    assert sample(text, "http_requests_total", **labels) == 20
    assert list(tmp_path.glob("counter_*.db")), "workers wrote no multiprocess files"
