# The API under gunicorn, for docker compose and production. See docs/deployment.md.
#
#   docker build -t finance-api .
#   docker run --env-file .env -p 127.0.0.1:8000:8000 finance-api
#
# Offline: `make wheels` first fills wheels/ with every pinned requirement, and the build then
# installs from there with --no-index; without wheels/ it installs from the package index.
# BASE_IMAGE swaps the Python image, e.g. for the Debian stand-in of docker/local-images.sh:
#   docker build --build-arg BASE_IMAGE=local/python:3.11 -t finance-api .
#
# The entrypoint waits for the database, runs `flask db upgrade`, then execs gunicorn with
# gunicorn.conf.py (the same settings `make run` uses). Any arguments replace gunicorn:
#   docker run --env-file .env finance-api flask ledger verify
ARG BASE_IMAGE=python:3.11-slim

# --- build: the virtualenv, in a stage of its own so the wheels never reach the image --------
FROM ${BASE_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# `wheel[s]` matches wheels/ when it is there and nothing when it is not (COPY then copies just
# requirements.txt): its wheel files land beside requirements.txt.
COPY requirements.txt wheel[s] /tmp/install/

# Every pinned package has a manylinux wheel (psycopg2-binary, argon2-cffi, orjson): no compiler.
RUN python -m venv "$VIRTUAL_ENV" \
    && if ls /tmp/install/*.whl >/dev/null 2>&1; then \
         echo "Installing from the wheelhouse (wheels/), without the index"; \
         pip install --no-index --find-links /tmp/install -r /tmp/install/requirements.txt; \
       else \
         pip install -r /tmp/install/requirements.txt; \
       fi \
    && pip check

# --- the image ------------------------------------------------------------------------------
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
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
COPY --from=build /opt/venv /opt/venv

# Only what the server runs; owned by root and read-only for the app user.
COPY app ./app
COPY migrations ./migrations
COPY config.py wsgi.py gunicorn.conf.py ./
COPY docker/entrypoint.sh ./docker/entrypoint.sh
RUN chmod 0755 docker/entrypoint.sh

USER app

EXPOSE 8000

# Liveness only (the process answers HTTP); /readyz also asks the database.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)" || exit 1

ENTRYPOINT ["/app/docker/entrypoint.sh"]
