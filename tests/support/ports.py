"""Loopback ports: one nothing listens on, and waiting for a server to listen."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A loopback port with nothing listening on it (for a server to start, or a dead endpoint)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Return once something accepts connections on the loopback port; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")
