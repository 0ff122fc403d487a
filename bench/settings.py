"""Benchmark settings, all overridable from the environment."""

import os

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-123"


def database_url() -> str:
    return os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/finance_bench"
    )
