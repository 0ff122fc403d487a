#!/bin/sh
# As the official image's entrypoint: options alone mean redis-server; the server runs as the
# redis user. The official image also turns protected mode off (its clients are other
# containers, not loopback); Debian's build leaves it on, so it is turned off here, before the
# caller's own options, which win.
set -eu

case "${1:-}" in
    -* | *.conf) set -- redis-server "$@" ;;
esac

if [ "${1:-}" = redis-server ]; then
    shift
    # A configuration file must stay redis-server's first argument.
    config=""
    case "${1:-}" in
        *.conf)
            config="$1"
            shift
            ;;
    esac
    if [ "$(id -u)" = 0 ]; then
        chown -R redis:redis /data 2>/dev/null || true
        exec setpriv --reuid=redis --regid=redis --init-groups \
            redis-server $config --protected-mode no "$@"
    fi
    exec redis-server $config --protected-mode no "$@"
fi

exec "$@"
