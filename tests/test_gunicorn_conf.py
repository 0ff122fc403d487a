"""gunicorn.conf.py's hooks: after a large upload or download the worker trims glibc's heap
(and only then, unless it has grown), and a worker that stays much larger than it started is
replaced."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
MB = 1024 * 1024


class Recorder:
    def __init__(self) -> None:
        self.trims = 0

    def malloc_trim(self, pad: int) -> int:
        self.trims += 1
        return 1


class Worker:
    """What the hooks read and set of a gunicorn worker."""

    def __init__(self) -> None:
        self.alive = True
        self.log = logging.getLogger("test.gunicorn")


class Response:
    def __init__(self, sent: int) -> None:
        self.sent = sent


def hooks(sizes: list[int] | None = None):
    """The config's hooks, with a recording malloc_trim and, if given, the worker's sizes
    (boot first, then one per reading) in place of /proc."""
    settings = runpy.run_path(str(CONF))
    recorder = Recorder()
    settings["post_request"].__globals__["LIBC"] = recorder
    if sizes is not None:
        readings = iter(sizes)
        settings["post_request"].__globals__["rss_bytes"] = lambda worker: next(readings)
    return settings, recorder


def test_glibc_is_found_here():
    settings = runpy.run_path(str(CONF))
    assert settings["LIBC"] is not None
    assert settings["LIBC"].malloc_trim(0) in (0, 1)


def test_a_worker_reads_its_own_size():
    settings = runpy.run_path(str(CONF))
    worker = Worker()
    settings["post_worker_init"](worker)
    assert 10 * MB < worker.boot_rss < 2000 * MB
    assert settings["grown"](worker) >= 0
    settings["post_request"](worker, None, {}, None)
    assert worker.alive


def test_the_heap_is_trimmed_after_a_large_body_or_response_only():
    settings, recorder = hooks()
    post_request = settings["post_request"]
    limit = settings["TRIM_AFTER_BYTES"]
    worker = Worker()  # its size unknown: never replaced
    for environ, response, trims in (
        ({}, None, 0),
        ({"CONTENT_LENGTH": ""}, None, 0),
        ({"CONTENT_LENGTH": "1e9"}, None, 0),
        ({"CONTENT_LENGTH": str(limit - 1)}, Response(limit - 1), 0),
        ({"CONTENT_LENGTH": str(limit)}, None, 1),
        ({"CONTENT_LENGTH": str(50 * limit)}, None, 2),
        ({}, Response(limit), 3),  # an export
    ):
        post_request(worker, None, environ, response)
        assert recorder.trims == trims, environ
    assert worker.alive


def test_a_worker_that_stays_much_larger_than_it_started_is_replaced():
    # Boot at 100 MB; a large upload leaves it 30 MB larger, and still 20 MB after the trim
    # (read again for the log line).
    settings, recorder = hooks([100 * MB, 130 * MB, 120 * MB, 120 * MB])
    worker = Worker()
    settings["post_worker_init"](worker)
    limit = settings["TRIM_AFTER_BYTES"]
    settings["post_request"](worker, None, {"CONTENT_LENGTH": str(limit)}, None)
    assert recorder.trims == 1
    assert worker.alive is False


def test_a_worker_the_trim_brings_back_under_the_bound_stays():
    # A small request that left 20 MB of freed heap: trimmed (as it is over), then 5 MB over.
    settings, recorder = hooks([100 * MB, 120 * MB, 105 * MB])
    worker = Worker()
    settings["post_worker_init"](worker)
    settings["post_request"](worker, None, {}, None)
    assert recorder.trims == 1
    assert worker.alive


def test_a_worker_that_grew_a_little_is_neither_trimmed_nor_replaced():
    settings, recorder = hooks([100 * MB, 105 * MB])  # boot, then one reading a request
    worker = Worker()
    settings["post_worker_init"](worker)
    settings["post_request"](worker, None, {}, None)
    assert recorder.trims == 0
    assert worker.alive
