#!/bin/sh
# The official postgres image's start-up, for Debian's PostgreSQL 15: on the first start (an
# empty PGDATA) create the cluster with POSTGRES_USER (default postgres) and its
# POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), the database
# POSTGRES_DB (default: the user's name), run /docker-entrypoint-initdb.d/*; then exec
# postgres, as the postgres user, listening on every interface.
set -eu

case "${1:-}" in
    -*) set -- postgres "$@" ;;
esac

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    # A fresh named volume is root's: hand it to postgres, then start again as postgres.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 2775 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

say() {
    echo "postgres-entrypoint: $*" >&2
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    POSTGRES_USER="${POSTGRES_USER:-postgres}"
    POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        say "POSTGRES_PASSWORD is empty: set it (or POSTGRES_HOST_AUTH_METHOD=trust, never in production)"
        exit 1
    fi

    say "initialising $PGDATA for user $POSTGRES_USER, database $POSTGRES_DB"
    # A failed initialisation must not leave a half-made cluster that the next start (the
    # restart policy) would take for a finished one: stop and empty PGDATA, then fail.
    init_socket="$(mktemp -d)"
    initialised=no
    cleanup() {
        if [ "$initialised" != yes ]; then
            say "initialisation failed: emptying $PGDATA so that the next start begins again"
            pg_ctl -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
            find "$PGDATA" -mindepth 1 -delete
        fi
        rm -rf "$init_socket"
    }
    trap cleanup EXIT
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as upstream
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >&2
    rm -f "$pwfile"
    # Other containers connect over the network, with the password.
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

    # A temporary server on a private socket and no TCP, so that pg_isready (the health
    # check) and clients only see the server once it is fully set up.
    pg_ctl -D "$PGDATA" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories=$init_socket" start >&2
    export PGHOST="$init_socket" PGUSER="$POSTGRES_USER"
    if [ "$POSTGRES_DB" != postgres ]; then
        # psql quotes the name (:"db"); it does so only for what it reads, not for -c.
        echo 'CREATE DATABASE :"db";' |
            psql -v ON_ERROR_STOP=1 --dbname postgres --quiet --set db="$POSTGRES_DB" >&2
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh)
                say "running $script"
                . "$script"
                ;;
            *.sql)
                say "running $script"
                psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" -f "$script" >&2
                ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >&2
    initialised=yes
    cleanup
    trap - EXIT
    unset PGHOST PGUSER
    say "initialised; starting PostgreSQL"
fi

exec "$@"
