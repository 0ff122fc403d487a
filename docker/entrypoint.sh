#!/bin/sh
# Container entrypoint: wait for the database (bounded), apply migrations, then exec the server.
#
# Environment (besides what config.py reads):
#   DB_WAIT_TIMEOUT   seconds to keep trying the database before giving up (default 60)
#   DB_WAIT_INTERVAL  seconds between two attempts (default 1)
#   RUN_MIGRATIONS    1 (default) runs `flask db upgrade`; 0 skips it, for replicas when a
#                     release step has migrated already (see docs/deployment.md)
# Arguments: a command to exec instead of gunicorn, e.g. `flask ledger verify`; none -> gunicorn.
#
# `exec` matters: the server replaces this shell as PID 1, so `docker stop`'s SIGTERM reaches
# gunicorn and it shuts down gracefully instead of being killed after the grace period.
set -eu

# The app root (wsgi.py, config.py, gunicorn.conf.py), wherever the script is called from.
cd "$(dirname "$0")/.."
export FLASK_APP="${FLASK_APP:-wsgi}"

log() {
    echo "entrypoint: $*" >&2
}

# Python with the app's own config: the same URL normalisation, .env and production checks
# as the app, and no client tools (pg_isready) needed in the image.
python - <<'PY' || exit $?
import os
import sys
import time

import sqlalchemy as sa

from config import get_config


def say(message):
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


try:
    config = get_config()
    config.check()
    timeout = float(os.environ.get("DB_WAIT_TIMEOUT", "60"))
    interval = float(os.environ.get("DB_WAIT_INTERVAL", "1"))
except (RuntimeError, ValueError) as exc:
    say(f"configuration error: {exc}")
    sys.exit(2)

url = sa.engine.make_url(config.SQLALCHEMY_DATABASE_URI)
shown = url.render_as_string(hide_password=True)
connect_args = {}
if url.get_backend_name() == "postgresql":
    # One attempt may not outlive the whole budget (libpq's minimum is 2 seconds).
    connect_args["connect_timeout"] = max(2, min(10, int(timeout)))
engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)

deadline = time.monotonic() + timeout
attempt = 0
while True:
    attempt += 1
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        say(f"database at {shown} answered (attempt {attempt})")
        sys.exit(0)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if time.monotonic() + interval >= deadline:
        say(
            f"gave up: the database at {shown} did not answer within {timeout:g}s "
            f"({attempt} attempts). Last error: {reason}"
        )
        sys.exit(1)
    say(f"waiting for the database at {shown} (attempt {attempt}): {reason}")
    time.sleep(interval)
PY

if [ "${RUN_MIGRATIONS:-1}" = "0" ]; then
    log "RUN_MIGRATIONS=0: not applying migrations"
else
    log "applying migrations (flask db upgrade)"
    flask db upgrade
fi

if [ "$#" -gt 0 ]; then
    log "exec $*"
    exec "$@"
fi
log "exec gunicorn --config gunicorn.conf.py wsgi:app"
exec gunicorn --config gunicorn.conf.py wsgi:app
