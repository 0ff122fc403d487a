"""gunicorn.conf.py's hooks: after a large upload the worker trims glibc's heap, and only then."""

from __future__ import annotations

import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


class Recorder:
    def __init__(self) -> None:
        self.trims = 0

    def malloc_trim(self, pad: int) -> int:
        self.trims += 1
        return 1


def test_glibc_is_found_here():
    settings = runpy.run_path(str(CONF))
    assert settings["LIBC"] is not None
    assert settings["LIBC"].malloc_trim(0) in (0, 1)


def test_the_heap_is_trimmed_after_a_large_body_only():
    settings = runpy.run_path(str(CONF))
    recorder = Recorder()
    post_request = settings["post_request"]
    post_request.__globals__["LIBC"] = recorder
    limit = settings["TRIM_AFTER_BYTES"]
    for environ, trims in (
        ({}, 0),
        ({"CONTENT_LENGTH": ""}, 0),
        ({"CONTENT_LENGTH": "1e9"}, 0),
        ({"CONTENT_LENGTH": str(limit - 1)}, 0),
        ({"CONTENT_LENGTH": str(limit)}, 1),
        ({"CONTENT_LENGTH": str(50 * limit)}, 2),
    ):
        post_request(None, None, environ, None)
        assert recorder.trims == trims, environ
