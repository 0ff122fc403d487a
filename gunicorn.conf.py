"""gunicorn settings, shared by `make run`, the Dockerfile and the benchmark.

Each can be overridden from the environment (GUNICORN_*, PORT) or the command line.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers, 2 x cores + 1, by measurement (make bench, 1M rows, 16 connections, 2 cores
# shared with PostgreSQL): gthread (2 workers x 4 threads, 3 x 2) served the list and the
# writes at a half to a third of the sync workers' rate, the GIL and the connection pool
# shared between threads; 2, 3, 4 and 5 sync workers could not be told apart on a loaded
# machine (runs of one setting differed by 2-4x), so gunicorn's own advice stands.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync" if threads == 1 else "gthread")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
# Off unless asked for: the app already logs one JSON line per request (app/observability.py).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25+ opens a control socket under $HOME by default: the container's user has no home,
# and several instances on one host would share one path. Nothing here uses it.
control_socket_disable = True
# Worker heartbeat files on tmpfs: in a container /tmp is an overlay disk that can stall them.
# (gunicorn creates them with mkstemp, so a shared directory is safe.)
SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHM if os.path.isdir(SHM) else None


def post_worker_init(worker):
    """Leave what the app built at start-up (modules, the URL map, schemas, the metadata) out of
    the garbage collector's passes: otherwise every full collection walks it again, mid-request.
    Profiled on the test client, a list page of 100 spent 2.0 ms of ~20 in the collector
    without this, 0.3 ms with it."""
    import gc

    gc.freeze()
    # Opened here, in the worker: /proc/self names whoever opens it.
    try:
        worker.statm = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        worker.statm = None
    worker.boot_rss = rss_bytes(worker)  # what post_request measures growth against


#: A request body or a response at least this large (an import, a restore, an export) is
#: followed by malloc_trim.
TRIM_AFTER_BYTES = int(os.environ.get("GUNICORN_TRIM_AFTER_BYTES", str(1024 * 1024)))
CONTENT_LENGTH_KEY = "CONTENT_LENGTH"  # the WSGI environ's name of the header
#: A worker that holds this much more than when it started, trimmed, is replaced (0: never).
RECYCLE_GROWTH_BYTES = int(os.environ.get("GUNICORN_RECYCLE_GROWTH_MB", "16")) * 1024 * 1024


def post_request(worker, req, environ, resp):
    """After a large upload or download, hand the heap that its request freed back to the
    system (glibc's malloc_trim): glibc keeps freed memory for the process otherwise, and a
    worker that served a 100,000-row import stayed ~18 MB larger for the rest of its life
    (measured on the test client: 194 -> 176 MB). A few milliseconds, once per such request.

    What the trim cannot give back is CPython's own: its small-object arenas stay mapped while
    any object in them lives, and an import's ~100,000 row dicts leave survivors scattered
    through them. A worker that served that import stayed 26 MB larger (103 -> 129 MB, one
    worker under gunicorn, trimmed). So after every request the worker's size is read (one
    pread of /proc/self/statm, under a microsecond); one still RECYCLE_GROWTH_BYTES larger
    than when it started, once trimmed, finishes this request and gunicorn forks a fresh one
    in its place (as `max_requests` would, but only when the memory is really held: a fresh
    worker is ~100 MB, ~3 MB more once it has served a few requests)."""
    length = environ.get(CONTENT_LENGTH_KEY) or ""
    large = (length.isdigit() and int(length) >= TRIM_AFTER_BYTES) or (
        getattr(resp, "sent", 0) >= TRIM_AFTER_BYTES
    )
    over = over_bound(worker)
    if LIBC is not None and (large or over):
        LIBC.malloc_trim(0)
        over = over_bound(worker)  # read again: what the trim gave back
    if over:
        worker.log.info(
            "Worker %s is %d MB larger than when it started: replacing it",
            os.getpid(),
            grown(worker) >> 20,
        )
        worker.alive = False  # gunicorn's own way to retire a worker after this request


def rss_bytes(worker) -> int | None:
    """The worker's resident set size (None where /proc has none)."""
    if getattr(worker, "statm", None) is None:
        return None
    try:
        return int(os.pread(worker.statm, 64, 0).split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def over_bound(worker) -> bool:
    return bool(RECYCLE_GROWTH_BYTES) and grown(worker) >= RECYCLE_GROWTH_BYTES


def grown(worker) -> int:
    """How much larger the worker is than when it started (0 if unknown)."""
    now, boot = rss_bytes(worker), getattr(worker, "boot_rss", None)
    return now - boot if now and boot else 0


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def load_libc():
    """glibc, if this is glibc (malloc_trim is its own: musl and others have none)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - AttributeError where there is none
    except (OSError, AttributeError):
        return None
    return libc


LIBC = load_libc()


def on_starting(server):
    """Prometheus multiprocess mode (METRICS_ENABLED): start from an empty PROMETHEUS_MULTIPROC_DIR,
    as prometheus_client requires, so no dead worker's numbers from a previous run linger."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
