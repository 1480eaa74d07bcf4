"""Tridmo edge router: an HTTP/1.1 reverse proxy with balancing, health-based failover, safe retries
and streaming, built on uvloop + asyncio protocols + httptools. Run with ``python -m router``.

The hot modules also come compiled (``python -m router.build``); ``COMPILED`` says which build this
process loaded (see ``router/compiled.py``)."""

from .compiled import usable_build

__all__ = ["COMPILED", "__version__"]
__version__ = "0.1.0"

_build = usable_build(__path__[0])
if _build is not None:
    __path__.insert(0, _build)  # found before the .py files: extension modules for the hot path
COMPILED = _build is not None
