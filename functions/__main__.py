"""`python -m functions`: every function group mounted in one app, served by uvicorn.

This is what Render runs (and what local workers run behind the router). Routes are concatenated
rather than mounted so one middleware stack serves them all; literal paths of a group stay ahead
of its `{param}` paths because each group lists them first.
"""

from __future__ import annotations

import argparse
import importlib

from starlette.applications import Starlette

from shared.config import get_settings
from shared.http.app import build_app
from shared.process import tune_process

GROUPS = (
    "health", "auth", "users", "catalog", "brands", "models", "downloads", "uploads", "files",
    "interiors", "tags", "engagement", "notifications", "projects", "statistics",
)


def available_groups() -> list[str]:
    """Every group, imported (a group that fails to import fails the server, not a silent gap)."""
    for name in GROUPS:
        importlib.import_module(f"functions.{name}")
    return list(GROUPS)


def create_app() -> Starlette:
    """The app uvicorn serves; it calls this in every worker process, so the process tuning goes here."""
    tune_process()
    routes = []
    for name in available_groups():
        routes.extend(importlib.import_module(f"functions.{name}").routes)
    return build_app(routes)


def main() -> None:
    import uvicorn  # heavy: only serving needs it; scripts and tests import this module for its groups

    parser = argparse.ArgumentParser(description="Serve every Tridmo function group")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=get_settings().http_port)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = get_settings()
    uvicorn.run(
        "functions.__main__:create_app", factory=True, host=args.host, port=args.port,
        workers=args.workers, loop="uvloop", http="httptools", access_log=False,
        # X-Forwarded-For is believed only from our own proxies (the router, Render's edge)
        proxy_headers=True, forwarded_allow_ips=list(settings.trusted_proxies), timeout_keep_alive=75,
        log_config=None,
    )


if __name__ == "__main__":
    main()
