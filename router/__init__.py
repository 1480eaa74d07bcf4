"""Tridmo edge router: an HTTP/1.1 reverse proxy with balancing, health-based failover, safe retries
and streaming, built on uvloop + asyncio protocols + httptools. Run with ``python -m router``."""

__all__ = ["__version__"]
__version__ = "0.1.0"
