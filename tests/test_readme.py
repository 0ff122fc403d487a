"""README.md, kept true: the curl walkthrough runs as written against a server started the way
`make run` starts it, and the tables list every environment variable the code reads and every
route the app has.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# A port of this test's own range, for the walkthrough's server.
PORT = 18128


def walkthrough() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line of the curl walkthrough, in order."""
    text = README.read_text()
    section = text[text.index("## Five minutes with curl") : text.index("## Environment variables")]
    steps = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            command = [lines[i].removeprefix("$ ")]
            while command[-1].endswith("\\"):
                i += 1
                command.append(lines[i])
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            steps.append(("\n".join(command), "\n".join(output)))
    return steps


def normalise(output: str) -> str:
    """What differs between two runs: tokens, timestamps, the Date and X-Request-ID headers."""
    output = re.sub(r"eyJ[A-Za-z0-9_.-]+…?", "<token>", output.replace("\r", ""))
    output = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", "<timestamp>", output)
    return re.sub(r"^(Date|X-Request-ID): .*$", r"\1: <varies>", output, flags=re.M)


@pytest.fixture
def make_run_server(tmp_path):
    """The app as `make run` serves it (development, gunicorn, one worker with threads), on a
    fresh SQLite file of its own (not instance/), and its keys given (nothing written there)."""
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "APP_ENV": "development",
        "FLASK_APP": "wsgi",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'finance.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [bin_dir / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    args = ("--workers", "1", "--threads", "8", "--access-logfile", "/dev/null")
    with gunicorn(PORT, env, *args):
        # Listening already; this waits (in the listen queue) for the worker to boot and answer.
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=30).close()
        yield f"http://127.0.0.1:{PORT}"


@pytest.mark.slow  # starts gunicorn
def test_readme_walkthrough_runs_as_written_and_answers_what_it_shows(make_run_server):
    steps = walkthrough()
    assert steps[0][0] == "API=http://127.0.0.1:8000"
    # One shell, so variables (API, TOKEN, AUTH, U) carry from line to line as for a reader.
    script = [f"API={make_run_server}"]
    for number, (command, _) in enumerate(steps[1:], start=1):
        script += [f"echo '@@@{number}'", command, "echo"]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    outputs = {}
    for chunk in result.stdout.split("@@@")[1:]:
        number, _, output = chunk.partition("\n")
        outputs[int(number)] = output.strip("\n")

    for number, (command, expected) in enumerate(steps[1:], start=1):
        assert normalise(outputs[number]) == normalise(expected), f"README step: $ {command}"


def test_readme_lists_every_environment_variable_the_code_reads():
    sources = [ROOT / "config.py", ROOT / "gunicorn.conf.py", ROOT / "wsgi.py"]
    sources += sorted((ROOT / "app").rglob("*.py"))
    read = set()
    for source in sources:
        text = source.read_text()
        read |= set(re.findall(r"\benv(?:_int|_bool)?\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"environ(?:\.get)?[(\[]\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
        read |= set(re.findall(r"getenv\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
    read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (ROOT / "docker/entrypoint.sh").read_text()))
    read |= set(
        re.findall(
            r"environ\.get\(\"([A-Z][A-Z0-9_]+)\"", (ROOT / "docker/entrypoint.sh").read_text()
        )
    )
    assert {"DATABASE_URL", "SECRET_KEY", "DB_WAIT_TIMEOUT", "GUNICORN_WORKERS"} <= read

    readme = README.read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, flags=re.MULTILINE))
    assert read - documented == set(), "variables missing from README.md's table"


def test_readme_api_table_lists_every_route_of_the_app():
    from app import create_app

    app = create_app("testing")
    readme = README.read_text()
    documented = set(re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)`", readme, re.M))
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/docs-assets/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in documented:
                missing.append(f"{method} {path}")
    assert missing == [], "routes missing from README.md's API table"
