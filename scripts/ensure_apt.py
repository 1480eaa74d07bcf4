"""Install the Debian packages the test suite runs for real, when their binary is missing.

`make test` calls `python -m scripts.ensure_apt prometheus=promtool`: the alert-rule tests run
Debian's `promtool`, so a fresh machine (CI runs as root, `CI=true`, no stdin) gets the package
instead of a skipped test. Nothing happens when every binary is already on PATH. As root it runs
apt-get non-interactively (`apt-get update` only when the install fails on stale lists); otherwise
it uses `sudo -n` when that works, and else prints the command to run and exits 0, so a developer
without root still runs the rest of the suite (the tests that need the binary then say why).

While installing, a temporary `policy-rc.d` keeps Debian from starting the package's service: we
want the `prometheus` binary, not a daemon holding :9090 on the CI machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

POLICY = Path("/usr/sbin/policy-rc.d")
POLICY_TEXT = "#!/bin/sh\n# written by scripts/ensure_apt.py while installing; removed afterwards\nexit 101\n"


def parse(specs: list[str]) -> list[tuple[str, str]]:
    """`package=binary` (or `package` when the binary has its name) into pairs."""
    pairs = []
    for spec in specs:
        package, _, binary = spec.partition("=")
        pairs.append((package, binary or package))
    return pairs


def _prefix() -> list[str] | None:
    """How to run apt-get: directly as root, through passwordless sudo, or not at all."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def _apt(prefix: list[str], *args: str) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run([*prefix, "apt-get", *args], stdin=subprocess.DEVNULL, env=env).returncode


def install(packages: list[str], prefix: list[str]) -> int:
    wrote_policy = False
    if not prefix and not POLICY.exists():
        POLICY.write_text(POLICY_TEXT)
        POLICY.chmod(0o755)
        wrote_policy = True
    try:
        args = ("install", "-y", "-qq", "--no-install-recommends", *packages)
        if _apt(prefix, *args) == 0:
            return 0
        if _apt(prefix, "update", "-qq") != 0:
            return 1
        return _apt(prefix, *args)
    finally:
        if wrote_policy:
            POLICY.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    missing = [package for package, binary in parse(argv) if not shutil.which(binary)]
    if not missing:
        return 0
    prefix = _prefix()
    command = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if prefix is None:
        print(f"ensure_apt: {' '.join(missing)} missing and no root; run `sudo {command}`", file=sys.stderr)
        return 0
    print(f"ensure_apt: installing {' '.join(missing)} with apt-get ...", flush=True)
    if install(missing, prefix) != 0:
        print(f"ensure_apt: `{command}` failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
