"""docker/entrypoint.sh, run outside Docker: it waits for the database within a bounded budget,
applies the migrations, then execs the server (or the command it is given).

No Docker engine runs here, so the script runs as the container would run it, with the venv's
python, flask and gunicorn on PATH, against a scratch PostgreSQL database of its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

import config as app_config

pytestmark = pytest.mark.slow  # the container entrypoint: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
# Ports of this test's own range: one where nothing listens (checked), one to serve on.
CLOSED_PORT = 18129
SERVE_PORT = 18127


def scratch_url() -> sa.engine.URL:
    """The test database's server, with a database name of this module's own."""
    url = make_url(
        app_config.normalise_database_url(
            os.environ.get("TEST_DATABASE_URL") or app_config.TestingConfig.DEFAULT_DATABASE_URL
        )
    )
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "")
    return url.set(database=f"{url.database}_entrypoint{'_' + suffix if suffix else ''}")


def container_env(**env: str) -> dict[str, str]:
    """What the image sets, plus production secrets: venv tools first on PATH."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DB_WAIT_TIMEOUT": "10",
        "DB_WAIT_INTERVAL": "0.5",
        "LOG_LEVEL": "WARNING",
        "RATELIMIT_STORAGE_URI": "memory://",
        **env,
    }


def run_entrypoint(env: dict, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the entrypoint to completion, as a container would, from another directory."""
    return subprocess.run(
        [str(ENTRYPOINT), *command],
        env=container_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",  # the script must find the app from wherever it is started
    )


@pytest.fixture(scope="module")
def scratch_server_database():
    """A database of this module's own, created once (creating one per test is slow)."""
    url = scratch_url()
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    with server.connect() as conn:
        conn.execute(drop)
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    yield url.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(drop)
    server.dispose()


@pytest.fixture
def scratch_database(scratch_server_database):
    """The module's database, emptied: no tables, no alembic_version."""
    engine = sa.create_engine(scratch_server_database, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return scratch_server_database


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migration_head() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_entrypoint_is_an_executable_posix_shell_script():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    syntax = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_entrypoint_gives_up_with_a_clear_message_when_no_database_answers():
    import socket

    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", CLOSED_PORT)) != 0, f"port {CLOSED_PORT} is in use"

    started = time.monotonic()
    result = run_entrypoint(
        {
            "DATABASE_URL": f"postgresql://postgres:hunter2-secret@127.0.0.1:{CLOSED_PORT}/x",
            "DB_WAIT_TIMEOUT": "2",
            "DB_WAIT_INTERVAL": "0.5",
        },
        "sh",
        "-c",
        "echo the command must not run",
        timeout=30,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert "the command must not run" not in result.stdout
    assert "did not answer within 2s" in result.stderr
    assert "Connection refused" in result.stderr
    assert "attempt 2" in result.stderr  # it retried, rather than failing at the first refusal
    assert "hunter2-secret" not in result.stderr  # the password is masked
    assert "Traceback" not in result.stderr
    assert 1.5 <= elapsed < 10


def test_entrypoint_refuses_weak_production_secrets_before_waiting():
    result = run_entrypoint(
        {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/x", "SECRET_KEY": "dev"},
        "true",
    )
    assert result.returncode == 2
    assert "configuration error: SECRET_KEY must be set" in result.stderr
    assert "waiting for the database" not in result.stderr


def test_entrypoint_migrates_then_execs_the_given_command_in_its_own_process(scratch_database):
    # `$$` of the exec'd shell is the entrypoint's own PID only if the script used exec, which is
    # what lets docker stop's SIGTERM reach gunicorn.
    result = subprocess.Popen(
        [str(ENTRYPOINT), "sh", "-c", 'echo "command ran as pid $$"'],
        env=container_env(DATABASE_URL=scratch_database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    stdout, stderr = result.communicate(timeout=60)

    assert result.returncode == 0, stderr
    assert stdout.strip() == f"command ran as pid {result.pid}"
    assert "answered (attempt 1)" in stderr
    engine = sa.create_engine(scratch_database, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        version = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    assert version == migration_head()
    assert {"users", "accounts", "categories", "transactions"} <= table_names(scratch_database)


def test_entrypoint_skips_migrations_when_run_migrations_is_0(scratch_database):
    result = run_entrypoint(
        {"DATABASE_URL": scratch_database, "RUN_MIGRATIONS": "0"}, "echo", "served"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"
    assert "alembic_version" not in table_names(scratch_database)


def test_entrypoint_serves_with_gunicorn_by_default_and_stops_gracefully_on_sigterm(
    scratch_database,
):
    server = subprocess.Popen(
        [str(ENTRYPOINT)],
        env=container_env(
            DATABASE_URL=scratch_database, PORT=str(SERVE_PORT), GUNICORN_WORKERS="1"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd="/",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{SERVE_PORT}/readyz", timeout=2
                ) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.2)
        # The entrypoint's process is now gunicorn's master: docker stop's SIGTERM reaches it.
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert server.returncode == 0, output
    assert "exec gunicorn --config gunicorn.conf.py wsgi:app" in output
    assert f"Listening at: http://0.0.0.0:{SERVE_PORT}" in output
    assert "Handling signal: term" in output
