"""``python -m router.build``: compile the router's hot modules with Cython into ``router/_compiled/``.

Why: a proxied request costs about 115,000 user-space instructions when interpreted and about
61,000 compiled (``bench/router_instructions.py``), and about a fifth less CPU time in all; most of
the difference is attribute access and calls, which C types turn into struct fields and C calls.
The ``.py`` files stay the only implementation: Cython compiles them as they are, and the ``.pxd``
beside each module (an "augmenting" declaration file) only adds C types for attributes and hot
methods. So the two builds can differ in speed, not in behaviour, and the test suite runs on both.

Nothing imports Cython at run time; ``router/compiled.py`` decides at import which build loads.
Up to date (same sources, same interpreter): nothing is rebuilt, and the command takes milliseconds.

    python -m router.build [--force] [--clean] [--quiet] [--if-possible]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time

from .compiled import BUILD_DIR, MANIFEST, MODULES, ext_suffix, source_digest, usable_build

PKG = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(PKG)
# annotation_typing off: the .pxd files are the only source of C types, so a Python annotation
# such as ``status: int`` keeps Python semantics (arbitrary size, None checks) in both builds.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": False}


def build(quiet: bool) -> None:
    from Cython import __version__ as cython_version
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    digests = {m: source_digest(PKG, m) for m in MODULES}  # before compiling: what was compiled
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="router-build-") as tmp:
        cwd = os.getcwd()
        os.chdir(ROOT)  # module names come from paths: router/server.py -> router.server
        try:
            exts = cythonize([Extension(f"router.{m}", [f"router/{m}.py"]) for m in MODULES],
                             build_dir=os.path.join(tmp, "c"), compiler_directives=DIRECTIVES,
                             quiet=quiet, nthreads=jobs)
            dist = Distribution({"name": "router", "ext_modules": exts})
            dist.verbose = 0 if quiet else 1
            cmd = build_ext(dist)
            cmd.build_lib, cmd.build_temp = os.path.join(tmp, "lib"), os.path.join(tmp, "obj")
            cmd.parallel = jobs
            cmd.ensure_finalized()
            cmd.run()
        finally:
            os.chdir(cwd)
        staged = os.path.join(tmp, "out")
        os.mkdir(staged)
        for m in MODULES:
            shutil.copy2(os.path.join(tmp, "lib", "router", m + ext_suffix()), staged)
        with open(os.path.join(staged, MANIFEST), "w") as fh:
            json.dump({"ext_suffix": ext_suffix(), "python": sys.version.split()[0], "cython": cython_version,
                       "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sources": digests}, fh, indent=1)
        # Swap in whole: a process starting in between finds no build and runs the .py files.
        clean()
        shutil.move(staged, os.path.join(PKG, BUILD_DIR))


def missing_toolchain() -> str | None:
    """What a C build needs and this machine lacks (a C compiler, Python's headers), or None."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc})"
    if not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
        return "no Python headers (Python.h)"
    return None


def clean() -> None:
    shutil.rmtree(os.path.join(PKG, BUILD_DIR), ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m router.build", description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if the build is up to date")
    ap.add_argument("--clean", action="store_true", help="remove the build (the .py files run)")
    ap.add_argument("--quiet", action="store_true", help="print only the result")
    ap.add_argument("--if-possible", action="store_true",
                    help="without a C compiler or Python headers, say so and succeed (the .py files run)")
    args = ap.parse_args(argv)
    if args.clean:
        clean()
        print("router: compiled build removed; the .py files run")
        return 0
    if not args.force and usable_build(PKG) is not None:
        if not args.quiet:
            print("router: compiled build is up to date")
        return 0
    lacking = missing_toolchain()
    if lacking is not None and args.if_possible:
        clean()  # a build from other sources must not stay behind
        print(f"router: not compiled: {lacking}; the .py files run")
        return 0
    started = time.monotonic()
    try:
        build(args.quiet)
    except Exception as exc:  # Cython or a C compiler missing, or a compile error: say so, fail
        print(f"router: compiled build failed ({type(exc).__name__}: {exc}); the .py files will run",
              file=sys.stderr)
        return 1
    if usable_build(PKG) is None:  # e.g. a source changed while compiling
        print("router: compiled build does not match the sources; the .py files will run", file=sys.stderr)
        return 1
    print(f"router: compiled {len(MODULES)} modules in {time.monotonic() - started:.0f} s ({BUILD_DIR}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
