"""``${NAME}`` in the router's TOML file stands for the environment variable NAME.

On Render the router learns its upstreams' private addresses only at deploy time, from the
Blueprint's ``fromService`` (host and port of the API's private service) as environment variables;
router.toml names those variables instead of hard-coding hostnames that Render suffixes per service.
A reference to an unset variable fails the load (and so a reload keeps the running config) rather
than leaving an upstream such as ``http://:``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class UnsetVariable(ValueError):
    """A ``${NAME}`` whose variable is not set; the message names it."""


def expand(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """Every string in a parsed TOML document with its ``${NAME}`` references replaced."""
    env = os.environ if env is None else env
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise UnsetVariable(f"${{{name}}} is used in the config file but {name} is not set")
            return env[name]
        return REFERENCE.sub(substitute, value)
    if isinstance(value, list):
        return [expand(item, env) for item in value]
    if isinstance(value, dict):
        return {key: expand(item, env) for key, item in value.items()}
    return value
