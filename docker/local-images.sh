#!/usr/bin/env bash
# Stand-ins for the official images, built from Debian's packages, for a machine that reaches
# Debian's mirror but no image registry (no Docker Hub, no mirror of it).
#
#   docker/local-images.sh          build what is missing, then print the compose variables
#   docker/local-images.sh >> .env  ...and make `docker compose` use the stand-ins
#
# Images (each labelled with a hash of what it is built from, so a second run reuses it):
#   local/debian:bookworm   debootstrap --variant=minbase, imported with `docker import`
#   local/python:3.11       Debian's python3 (3.11) + venv, for the app's BASE_IMAGE (PYTHON_IMAGE)
#   local/postgres:15       Debian's postgresql-15, with the official image's POSTGRES_* contract
#   local/redis:7           Debian's redis-server (7.0)
#   local/nginx:1.22        Debian's nginx (1.22)
# Prints PYTHON_IMAGE=..., POSTGRES_IMAGE=..., REDIS_IMAGE=..., NGINX_IMAGE=... on stdout;
# everything else goes to stderr.
#
# Environment:
#   LOCAL_IMAGES_CACHE  where the debootstrap result is kept (default /var/cache/finance-local-images)
#   DEBIAN_MIRROR       the Debian mirror (default http://deb.debian.org/debian)
# Needs: docker (a running engine), debootstrap, root. See README.md, "Docker Compose".
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_DIR="${LOCAL_IMAGES_CACHE:-/var/cache/finance-local-images}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
LABEL=org.finance-api.local-images.key
base_image=local/debian:bookworm

log() {
    echo "local-images: $*" >&2
}

# The label an image carries, or nothing when the image is absent.
image_key() {
    docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

mkdir -p "$CACHE_DIR"
# One build at a time (a developer and CI on the same machine share the cache and the engine).
exec 9>"$CACHE_DIR/lock"
if ! flock --wait 1800 9; then
    log "another run held $CACHE_DIR/lock for 30 minutes; giving up"
    exit 1
fi

# --- The base: a minimal Debian root file system ---------------------------------------------
# Keyed by what goes into it; the debootstrap result is kept as a tarball, so a lost image
# (docker system prune) is re-imported in seconds instead of bootstrapped again.
base_recipe="debootstrap --variant=minbase $SUITE $MIRROR; sources: $SUITE $SUITE-updates $SUITE-security; slim; v3"
base_key="$(printf '%s' "$base_recipe" | sha256sum | cut -c1-16)"
rootfs="$CACHE_DIR/debian-$SUITE-minbase-$base_key.tar"

if [ "$(image_key "$base_image")" != "$base_key" ]; then
    if [ ! -s "$rootfs" ]; then
        command -v debootstrap >/dev/null || {
            log "debootstrap is missing: apt-get install debootstrap"
            exit 1
        }
        work="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
        trap 'rm -rf "$work"' EXIT
        log "debootstrap --variant=minbase $SUITE (a few minutes, once)"
        debootstrap --variant=minbase "$SUITE" "$work" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
            tail -n 20 "$CACHE_DIR/debootstrap.log" >&2
            exit 1
        }
        # Security and point-release updates too, as in Debian's own images.
        security_mirror="${MIRROR%/debian}/debian-security"
        cat >"$work/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $security_mirror $SUITE-security main
SOURCES
        # Small images: no recommended packages, no downloaded .debs or lists left in a layer.
        cat >"$work/etc/apt/apt.conf.d/90container" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
Acquire::Languages "none";
# apt's binary caches (tens of MB) are rebuilt whenever needed.
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
        # As Debian's -slim images: no documentation, manual pages or translations (the copyright
        # files stay), now or in any package installed later.
        cat >"$work/etc/dpkg/dpkg.cfg.d/90container" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
        find "$work/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        find "$work/usr/share/doc" -mindepth 1 -type d -empty -delete
        rm -rf "$work"/usr/share/man/* "$work"/usr/share/info/* "$work"/usr/share/lintian/*
        find "$work/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
            -exec rm -rf {} +
        # Services must not start while a package is installed (there is no init in a build).
        printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
        chmod 0755 "$work/usr/sbin/policy-rc.d"
        rm -rf "$work"/var/cache/apt/*.bin "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* "$work"/var/log/*.log
        tar --numeric-owner -C "$work" -cf "$rootfs.partial" .
        mv "$rootfs.partial" "$rootfs"
        rm -rf "$work"
        trap - EXIT
    fi
    log "importing $rootfs as $base_image"
    docker import \
        --change "LABEL $LABEL=$base_key" \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        "$rootfs" "$base_image" >/dev/null
fi

# --- The services, each a Dockerfile on top of the base --------------------------------------
# The Debian mirror is the one network these builds use (apt-get), through the host's network
# as apt-get on the host would.
build() {
    local name="$1" tag="$2" dir="$HERE/local-images/$1" key
    key="$(
        {
            echo "$base_key"
            cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum
        } | sha256sum | cut -c1-16
    )"
    if [ "$(image_key "$tag")" = "$key" ]; then
        log "$tag is up to date"
        return
    fi
    log "building $tag"
    docker build --network host --label "$LABEL=$key" --build-arg "BASE=$base_image" \
        -t "$tag" "$dir" >"$CACHE_DIR/build-$name.log" 2>&1 || {
        tail -n 30 "$CACHE_DIR/build-$name.log" >&2
        exit 1
    }
}

build python local/python:3.11
build postgres local/postgres:15
build redis local/redis:7
build nginx local/nginx:1.22

cat <<VARIABLES
PYTHON_IMAGE=local/python:3.11
POSTGRES_IMAGE=local/postgres:15
REDIS_IMAGE=local/redis:7
NGINX_IMAGE=local/nginx:1.22
VARIABLES
