"""The test suite's own promise: without PostgreSQL, `make test` says so in a line, not a trace."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a second pytest with two workers of its own: about 3 s
def test_suite_without_postgresql_exits_with_a_clear_message():
    env = {**os.environ, "TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "tests/test_money.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 3
    assert "No PostgreSQL answers at postgresql+psycopg2://postgres@127.0.0.1:1/nowhere" in output
    assert "Start PostgreSQL or point TEST_DATABASE_URL at one" in output
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
