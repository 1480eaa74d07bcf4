"""Router configuration: typed dataclasses built from TOML (``--config``) and CLI flags.

Validation happens here, once, so the data path can trust every value without re-checking it
per request. Unknown keys are rejected: a typo in an operations file should fail the reload
loudly instead of silently running with a default.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .envref import UnsetVariable, expand

POLICIES = ("p2c_ewma", "round_robin", "hash")


class ConfigError(ValueError):
    """Raised for any invalid configuration; the message names the offending key."""


@dataclass(frozen=True)
class UpstreamCfg:
    url: str
    weight: float = 1.0
    host: str = ""
    port: int = 0

    @staticmethod
    def parse(url: str, weight: float = 1.0) -> UpstreamCfg:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http":
            raise ConfigError(f"upstream {url!r}: only http:// upstreams are supported")
        if not parts.hostname or not parts.port:
            raise ConfigError(f"upstream {url!r}: needs host and port")
        if not (0 < float(weight) <= 1000):
            raise ConfigError(f"upstream {url!r}: weight must be in (0, 1000]")
        canonical = f"http://{parts.hostname}:{parts.port}"
        return UpstreamCfg(url=canonical, weight=float(weight), host=parts.hostname, port=parts.port)


@dataclass(frozen=True)
class PoolCfg:
    name: str
    priority: int = 0
    upstreams: tuple[UpstreamCfg, ...] = ()


@dataclass(frozen=True)
class BalancingCfg:
    policy: str = "p2c_ewma"
    hash_header: str = ""
    hash_cookie: str = ""
    ewma_decay: float = 10.0  # seconds: how quickly old latency samples are forgotten


@dataclass(frozen=True)
class HealthCfg:
    path: str = "/health"
    interval: float = 2.0
    jitter: float = 0.2  # fraction of interval, spreads probes so workers do not align
    timeout: float = 1.0
    rise: int = 2
    fall: int = 2


@dataclass(frozen=True)
class OutlierCfg:
    consecutive_failures: int = 5
    base_ejection: float = 10.0
    max_ejection: float = 300.0
    max_ejection_percent: float = 50.0
    panic_threshold: float = 50.0


@dataclass(frozen=True)
class SlowStartCfg:
    window: float = 10.0
    min_factor: float = 0.1


@dataclass(frozen=True)
class RetryCfg:
    attempts: int = 3
    per_try_timeout: float = 10.0
    backoff_base: float = 0.025
    backoff_max: float = 0.25
    budget_ratio: float = 0.2
    budget_min: int = 3
    retry_on: tuple[int, ...] = (502, 503, 504)
    max_replay_body: int = 64 * 1024
    hedge: bool = False
    overprovisioning: float = 1.4  # Envoy's factor: a priority at >=71% health keeps all its traffic


@dataclass(frozen=True)
class TimeoutsCfg:
    connect: float = 2.0
    header_read: float = 10.0
    idle: float = 300.0
    request: float = 60.0
    client_keepalive: float = 60.0
    pool_idle: float = 4.0
    shutdown: float = 30.0


@dataclass(frozen=True)
class LimitsCfg:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024 * 1024
    upstream_max_concurrency: int = 512
    queue_size: int = 1024
    queue_timeout: float = 2.0
    rate: float = 0.0  # requests per second per client ip; 0 disables
    burst: float = 100.0


@dataclass(frozen=True)
class BusyPollCfg:
    """HAProxy's ``busy-polling``: while traffic flows, poll with a zero timeout instead of sleeping,
    so the core never halts between events. On a VM an idle vCPU halts and is woken by an interrupt
    through the hypervisor, tens of microseconds per wake-up; spinning trades a core's worth of CPU
    for that latency. Off by default: it only pays on cores the router has to itself."""

    enabled: bool = False
    min_rate: float = 100.0  # requests/s (over one sweep, 100 ms) below which the loop sleeps again


@dataclass(frozen=True)
class LogCfg:
    access: bool = True
    sample: float = 1.0


@dataclass(frozen=True)
class Config:
    listen_host: str = "127.0.0.1"
    listen_port: int = 4000
    workers: int = 1
    trusted_proxies: tuple[str, ...] = ()
    pools: tuple[PoolCfg, ...] = ()
    balancing: BalancingCfg = field(default_factory=BalancingCfg)
    health: HealthCfg = field(default_factory=HealthCfg)
    outlier: OutlierCfg = field(default_factory=OutlierCfg)
    slow_start: SlowStartCfg = field(default_factory=SlowStartCfg)
    retry: RetryCfg = field(default_factory=RetryCfg)
    timeouts: TimeoutsCfg = field(default_factory=TimeoutsCfg)
    limits: LimitsCfg = field(default_factory=LimitsCfg)
    log: LogCfg = field(default_factory=LogCfg)
    busy_poll: BusyPollCfg = field(default_factory=BusyPollCfg)


SECTIONS: dict[str, type] = {
    "balancing": BalancingCfg,
    "health": HealthCfg,
    "outlier": OutlierCfg,
    "slow_start": SlowStartCfg,
    "retry": RetryCfg,
    "timeouts": TimeoutsCfg,
    "limits": LimitsCfg,
    "log": LogCfg,
    "busy_poll": BusyPollCfg,
}


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"listen {value!r}: expected host:port")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def _section(cls: type, raw: Any, name: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[{name}] unknown key {key!r}")
        default = getattr(cls(), key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"[{name}] {key} must be true/false")
        elif isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"[{name}] {key} must be a list")
            value = tuple(value)
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"[{name}] {key} must be a number")
            if value < 0:
                raise ConfigError(f"[{name}] {key} must be >= 0")
            value = type(default)(value)
        elif not isinstance(value, str):
            raise ConfigError(f"[{name}] {key} must be a string")
        kwargs[key] = value
    return cls(**kwargs)


def _validate(cfg: Config) -> None:
    if cfg.balancing.policy not in POLICIES:
        raise ConfigError(f"[balancing] policy must be one of {', '.join(POLICIES)}")
    if cfg.balancing.policy == "hash" and not (cfg.balancing.hash_header or cfg.balancing.hash_cookie):
        raise ConfigError("[balancing] policy 'hash' needs hash_header or hash_cookie")
    if cfg.health.rise < 1 or cfg.health.fall < 1 or cfg.health.interval <= 0:
        raise ConfigError("[health] rise/fall must be >= 1 and interval > 0")
    if not cfg.health.path.startswith("/"):
        raise ConfigError("[health] path must start with /")
    if cfg.retry.attempts < 1:
        raise ConfigError("[retry] attempts must be >= 1")
    if not all(isinstance(s, int) and 500 <= s <= 599 for s in cfg.retry.retry_on):
        raise ConfigError("[retry] retry_on must list 5xx status codes (integers 500-599)")
    if not 0 <= cfg.outlier.max_ejection_percent <= 100 or not 0 <= cfg.outlier.panic_threshold <= 100:
        raise ConfigError("[outlier] percentages must be within 0..100")
    if cfg.balancing.ewma_decay <= 0:
        raise ConfigError("[balancing] ewma_decay must be > 0 (seconds)")
    if not 0 < cfg.slow_start.min_factor <= 1:  # a zero share would be a zero weight (P2C divides by it)
        raise ConfigError("[slow_start] min_factor must be within (0, 1]")
    if not 0 <= cfg.log.sample <= 1:
        raise ConfigError("[log] sample must be within 0..1")
    if cfg.workers < 1:
        raise ConfigError("workers must be >= 1")
    seen: set[str] = set()
    for pool in cfg.pools:
        for up in pool.upstreams:
            if up.url in seen:
                raise ConfigError(f"upstream {up.url} is listed twice")
            seen.add(up.url)
    if not seen:
        raise ConfigError("no upstream configured (use --upstream or [[pools]] in the config file)")
    for net in cfg.trusted_proxies:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError as exc:
            raise ConfigError(f"trusted_proxies: {exc}") from None


def _pools(raw: Any) -> tuple[PoolCfg, ...]:
    if not isinstance(raw, list):
        raise ConfigError("[[pools]] must be an array of tables")
    pools = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(f"pools[{i}] must be a table")
        unknown = set(item) - {"name", "priority", "upstreams"}
        if unknown:
            raise ConfigError(f"pools[{i}] unknown key(s) {sorted(unknown)}")
        ups = []
        for u in item.get("upstreams", []):
            if isinstance(u, str):
                ups.append(UpstreamCfg.parse(u))
            elif isinstance(u, dict) and "url" in u and set(u) <= {"url", "weight"}:
                ups.append(UpstreamCfg.parse(str(u["url"]), u.get("weight", 1.0)))
            else:
                raise ConfigError(f"pools[{i}] upstream entries are \"url\" or {{url=..., weight=...}}")
        priority = item.get("priority", 0)
        if not isinstance(priority, int) or priority < 0:
            raise ConfigError(f"pools[{i}] priority must be an integer >= 0")
        pools.append(PoolCfg(name=str(item.get("name", f"pool{i}")), priority=priority, upstreams=tuple(ups)))
    return tuple(pools)


def build_config(
    data: dict[str, Any] | None = None,
    *,
    listen: str | None = None,
    upstreams: list[str] | None = None,
    workers: int | None = None,
) -> Config:
    """Merge a parsed TOML document with CLI flags; CLI flags win, CLI upstreams form pool 'default'."""
    data = dict(data or {})
    kwargs: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        if name in data:
            kwargs[name] = _section(cls, data.pop(name), name)
    if "pools" in data:
        kwargs["pools"] = _pools(data.pop("pools"))
    if "listen" in data:
        kwargs["listen_host"], kwargs["listen_port"] = parse_listen(str(data.pop("listen")))
    if "workers" in data:
        kwargs["workers"] = int(data.pop("workers"))
    if "trusted_proxies" in data:
        tp = data.pop("trusted_proxies")
        if not isinstance(tp, list):
            raise ConfigError("trusted_proxies must be a list of CIDRs")
        kwargs["trusted_proxies"] = tuple(str(x) for x in tp)
    if data:
        raise ConfigError(f"unknown top-level key(s) {sorted(data)}")
    if listen:
        kwargs["listen_host"], kwargs["listen_port"] = parse_listen(listen)
    if workers:
        kwargs["workers"] = workers
    if upstreams:
        cli_pool = PoolCfg("default", 0, tuple(UpstreamCfg.parse(u) for u in upstreams))
        others = tuple(p for p in kwargs.get("pools", ()) if p.name != "default")
        kwargs["pools"] = (cli_pool, *others)
    cfg = Config(**kwargs)
    _validate(cfg)
    return cfg


def load_config(
    path: str | None, *, listen: str | None = None, upstreams: list[str] | None = None, workers: int | None = None
) -> Config:
    data: dict[str, Any] = {}
    if path:
        try:
            data = expand(tomllib.loads(Path(path).read_text()))  # ${NAME}: environment variables
        except (OSError, tomllib.TOMLDecodeError, UnsetVariable) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return build_config(data, listen=listen, upstreams=upstreams, workers=workers)
