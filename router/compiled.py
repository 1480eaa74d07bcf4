"""Which build of the router runs: compiled or the plain ``.py`` files.

``python -m router.build`` compiles the hot modules with Cython into ``router/_compiled/``. The
package puts that folder first on its ``__path__`` only if the build was made for this interpreter,
has every module, and was made from exactly the sources now on disk (their SHA-256 is in the
manifest), so an edited ``.py`` runs as written and never beside a stale extension. Loading is
all or nothing: the compiled modules refer to each other's C types, so a mix would not import.
``ROUTER_PURE_PYTHON=1`` ignores the build, which is how the tests run the same suite on both.
"""

from __future__ import annotations

import hashlib
import json
import os
import sysconfig

# The data path and what it calls per request; everything else stays interpreted.
MODULES = ("server", "request", "connpool", "attempt", "response", "exchange", "upstream", "pools", "policies",
           "limits", "retry", "headers", "stats", "status", "core", "app")
BUILD_DIR = "_compiled"
MANIFEST = "manifest.json"


def ext_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def source_digest(pkg_dir: str, module: str) -> str:
    """A module's compiled form depends on its .py and, if there is one, its .pxd."""
    h = hashlib.sha256()
    for suffix in (".py", ".pxd"):
        path = os.path.join(pkg_dir, module + suffix)
        if os.path.exists(path):
            with open(path, "rb") as fh:
                h.update(suffix.encode() + b"\0" + fh.read())
    return h.hexdigest()


def usable_build(pkg_dir: str) -> str | None:
    """The build folder to load, or None (no build, pure Python requested, or stale)."""
    if os.environ.get("ROUTER_PURE_PYTHON", "").strip() not in ("", "0"):
        return None
    build = os.path.join(pkg_dir, BUILD_DIR)
    try:
        with open(os.path.join(build, MANIFEST)) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    suffix = ext_suffix()
    if not isinstance(manifest, dict) or manifest.get("ext_suffix") != suffix:
        return None
    sources = manifest.get("sources") or {}
    for module in MODULES:
        if sources.get(module) != source_digest(pkg_dir, module):
            return None
        if not os.path.exists(os.path.join(build, module + suffix)):
            return None
    return build
