"""Prometheus for the platform `make run` starts, with the alert rules loaded.

Writes `.data/metrics_token` (METRICS_TOKEN, empty when unset: the API then answers /metrics
without one outside production), because ops/prometheus/prometheus.yml reads the bearer token from
that file and Prometheus does not expand environment variables. Then runs
`prometheus --config.file=ops/prometheus/prometheus.yml` with its data under `.data/prometheus`
and the web UI on :9090 (`--port` to change), until Ctrl-C.
Usage: `python -m scripts.prometheus_local [--port 9090]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from shared.config import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "ops" / "prometheus" / "prometheus.yml"
TOKEN_FILE = PROJECT_ROOT / ".data" / "metrics_token"  # ../../.data/metrics_token from the config


def write_token() -> None:
    TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKEN_FILE.write_text(os.environ.get("METRICS_TOKEN", ""))
    TOKEN_FILE.chmod(0o600)


def command(binary: str, port: int) -> list[str]:
    return [binary, f"--config.file={CONFIG}", f"--storage.tsdb.path={PROJECT_ROOT / '.data' / 'prometheus'}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=7d"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9090)
    args = parser.parse_args(argv)
    binary = shutil.which("prometheus")
    if binary is None:
        print("prometheus is not installed: `sudo apt-get install prometheus` (Debian/Ubuntu), or "
              "`python -m scripts.ensure_apt prometheus` as root", file=sys.stderr)
        return 1
    write_token()
    print(f"Prometheus on http://localhost:{args.port} (graphs; alerts at /alerts), scraping :4000 and :4101/:4102",
          flush=True)
    os.execv(binary, command(binary, args.port))  # noqa: S606 (argv list, no shell)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
