"""Process-wide settings applied once when a serving process starts (`tune_process()`).

Called from `python -m functions` (`create_app`, which every uvicorn worker process runs) and where a
Lambda handler is created (`shared.http.app.lambda_handler`); never from request or storage code: a
process-wide change belongs to whoever starts the process, before the first request.

Today that is one thing, malloc: keep glibc from handing streamed upload chunks back to the kernel after
every request body read.

uvloop reads a request body in ~256 KiB pieces, each a fresh `bytes` object. With glibc's defaults such
a piece is either mmapped (above the 128 KiB mmap threshold) or carved from the heap top, which is
trimmed again as soon as it is freed: either way every piece lands on pages the kernel must fault in and
zero, then unmap. Measured here, that is ~330,000 page faults and ~1 s of CPU per GiB uploaded, more than
the socket and disk work combined. Serving pieces below 1 MiB from the heap and keeping up to 32 MiB of
freed heap lets the next piece reuse warm pages (0 faults), for at most 32 MiB of retained memory.

A no-op off glibc, and skipped when the operator tunes malloc through the environment (`MALLOC_*_` or
`GLIBC_TUNABLES`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024


@functools.cache
def tune_malloc() -> bool:
    """Apply the settings once per process; True when they are in effect."""
    if not sys.platform.startswith("linux") or _operator_tuned():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _operator_tuned() -> bool:
    if "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return True
    return any(name.startswith("MALLOC_") and name.endswith("_") for name in os.environ)


def tune_process() -> None:
    """Apply every process-wide setting; idempotent, so each entry point may call it."""
    tune_malloc()
