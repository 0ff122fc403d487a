# The API under gunicorn, for docker compose and production. See docs/deployment.md.
#
#   docker build -t finance-api .
#   docker run --env-file .env -p 8000:8000 finance-api
#
# The entrypoint waits for the database, runs `flask db upgrade`, then execs gunicorn with
# gunicorn.conf.py (the same settings `make run` uses). Any arguments replace gunicorn:
#   docker run --env-file .env finance-api flask ledger verify
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    APP_ENV=production \
    FLASK_APP=wsgi \
    PORT=8000

# A system user with no shell and no home of its own: the server never runs as root.
RUN groupadd --system app \
    && useradd --system --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Requirements first, so that a code change does not reinstall every package.
# Every pinned package has a manylinux wheel (psycopg2-binary, argon2-cffi, orjson): no compiler.
COPY requirements.txt ./
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install -r requirements.txt

# The code stays owned by root and read-only for the app user; .dockerignore keeps .venv, .git,
# instance/, .env and tests out of the image.
COPY . .
RUN chmod 0755 docker/entrypoint.sh

USER app

EXPOSE 8000

# Liveness only (the process answers HTTP); /readyz also asks the database.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)" || exit 1

ENTRYPOINT ["/app/docker/entrypoint.sh"]
