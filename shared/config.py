"""Settings read from the environment, once per process.

The seed's variable names are kept (`NODE_ENV`, `HTTP_PORT`, `DB_URL`, `S3_*`, `BASE_IMG_URL`, ...)
so the operations plan's environment works unchanged. Adapters are chosen from what is set:
`DB_URL` means that database, `S3_ACCOUNT_ID`/`S3_ENDPOINT_URL` means R2/S3, `SUPABASE_URL` means
Supabase Auth; anything unset falls back to an embedded default, which production refuses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_TLS_SSLMODES = {"require", "verify-ca", "verify-full"}
# A fixed development secret keeps tokens valid across local restarts; production must set its own.
_DEV_SECRET = "tridmo-local-development-secret-not-for-production"


class ConfigError(RuntimeError):
    """Raised at start-up when a setting is missing or unsafe; the message names the setting."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    env_name: str = "development"
    http_port: int = 4000
    version: str = "0.1.0"
    data_dir: Path = PROJECT_ROOT / ".data"

    # database
    db_url: str = ""
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_pool_mode: str = "session"  # "transaction" for Supavisor :6543 (no prepared statements)
    db_statement_timeout_ms: int = 5000
    db_connect_timeout_s: float = 5.0

    # auth
    jwt_secret: str = _DEV_SECRET
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 60 * 60 * 24 * 30
    supabase_url: str = ""
    supabase_service_role_key: str = ""
    supabase_anon_key: str = ""
    admin_email: str = ""
    admin_password: str = ""

    # storage
    s3_account_id: str = ""
    s3_endpoint_url: str = ""
    s3_access_id: str = ""
    s3_secret_key: str = ""
    s3_region: str = "auto"
    s3_images_bucket: str = "tridmo-images"
    s3_files_bucket: str = "tridmo-files"
    s3_replica_endpoint_url: str = ""
    s3_replica_access_id: str = ""
    s3_replica_secret_key: str = ""
    s3_replica_images_bucket: str = ""
    s3_replica_files_bucket: str = ""
    storage_dir: Path = PROJECT_ROOT / ".data" / "storage"
    base_img_url: str = ""
    base_files_url: str = ""
    public_api_url: str = ""
    url_signing_secret: str = _DEV_SECRET
    max_archive_bytes: int = 2 * 1024**3
    max_image_bytes: int = 20 * 1024**2
    download_url_ttl_s: int = 300
    downloads_per_day: int = 100
    upload_url_ttl_s: int = 3600  # direct uploads: presigned PUT/part URLs and the upload row expire after this
    multipart_threshold_bytes: int = 64 * 1024**2  # direct uploads at or above this size use multipart
    orphan_grace_s: int = 24 * 3600  # the sweep leaves unreferenced objects younger than this alone
    storage_connect_timeout_s: float = 2.0  # short, so reads fall over to the replica quickly
    storage_read_timeout_s: float = 15.0
    storage_max_attempts: int = 2

    # http
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    max_json_bytes: int = 1024 * 1024
    force_https: bool = False

    # abuse limits (shared/http/limits.py, shared/http/middleware/rate_limit.py, shared/auth/throttle.py)
    rate_limit_enabled: bool = True
    rate_limit_auth_per_min: int = 20  # per client address: sign-in, sign-up, refresh, reset, resend code
    rate_limit_write_per_min: int = 120  # per client address and per signed-in user: POST/PUT/PATCH/DELETE
    rate_limit_read_per_min: int = 1200  # per client address: GET/HEAD
    signin_failures_per_client: int = 5  # wrong passwords per account and client address per window
    signin_failures_per_account: int = 20  # wrong passwords per account from all addresses per window
    signin_failure_window_s: int = 900
    idempotency_ttl_s: int = 24 * 3600

    # observability
    datadog_api_key: str = ""
    dd_agent_host: str = ""
    dd_dogstatsd_port: int = 8125
    metrics_token: str = ""
    log_level: str = "INFO"
    business_timezone: str = "Asia/Tashkent"

    raw: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_production(self) -> bool:
        return self.env_name == "production"

    @property
    def uses_embedded_db(self) -> bool:
        return not self.db_url

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_account_id or self.s3_endpoint_url)

    @property
    def uses_supabase(self) -> bool:
        return bool(self.supabase_url)

    @property
    def s3_endpoint(self) -> str:
        if self.s3_endpoint_url:
            return self.s3_endpoint_url
        return f"https://{self.s3_account_id}.r2.cloudflarestorage.com"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        g = env.get
        data_dir = Path(g("DATA_DIR") or PROJECT_ROOT / ".data")
        env_name = (g("APP_ENV") or g("NODE_ENV") or "development").strip().lower()
        db_url = g("DB_URL", "")
        pool_mode = (g("DB_POOL_MODE") or "").strip().lower()
        if not pool_mode:
            pool_mode = "transaction" if urlsplit(db_url).port == 6543 else "session"
        if pool_mode not in {"session", "transaction"}:
            raise ConfigError(f"DB_POOL_MODE must be 'session' or 'transaction', got {pool_mode!r}")
        production = env_name == "production"
        settings = cls(
            env_name=env_name,
            http_port=_int(env, "HTTP_PORT", 4000),
            version=g("APP_VERSION") or g("RENDER_GIT_COMMIT", "")[:12] or "0.1.0",
            data_dir=data_dir,
            db_url=db_url,
            db_pool_min=_int(env, "DB_POOL_MIN", 1),
            db_pool_max=_int(env, "DB_POOL_MAX", 10),
            db_pool_mode=pool_mode,
            db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 5000),
            db_connect_timeout_s=float(g("DB_CONNECT_TIMEOUT_S") or 5),
            jwt_secret=g("SUPABASE_JWT_SECRET") or g("JWT_SECRET") or ("" if production else _DEV_SECRET),
            access_token_ttl_s=_int(env, "ACCESS_TOKEN_TTL_S", 3600),
            refresh_token_ttl_s=_int(env, "REFRESH_TOKEN_TTL_S", 60 * 60 * 24 * 30),
            supabase_url=(g("SUPABASE_URL") or "").rstrip("/"),
            supabase_service_role_key=g("SUPABASE_SERVICE_ROLE_KEY", ""),
            supabase_anon_key=g("SUPABASE_ANON_KEY", ""),
            admin_email=g("ADMIN_EMAIL", ""),
            admin_password=g("ADMIN_PASSWORD", ""),
            s3_account_id=g("S3_ACCOUNT_ID", ""),
            s3_endpoint_url=g("S3_ENDPOINT_URL", ""),
            s3_access_id=g("S3_ACCESS_ID", ""),
            s3_secret_key=g("S3_SECRET_KEY", ""),
            s3_region=g("S3_REGION") or "auto",
            s3_images_bucket=g("S3_IMAGES_BUCKET") or "tridmo-images",
            s3_files_bucket=g("S3_FILES_BUCKET") or "tridmo-files",
            s3_replica_endpoint_url=g("S3_REPLICA_ENDPOINT_URL", ""),
            s3_replica_access_id=g("S3_REPLICA_ACCESS_ID", ""),
            s3_replica_secret_key=g("S3_REPLICA_SECRET_KEY", ""),
            s3_replica_images_bucket=g("S3_REPLICA_IMAGES_BUCKET", ""),
            s3_replica_files_bucket=g("S3_REPLICA_FILES_BUCKET", ""),
            storage_dir=Path(g("STORAGE_DIR") or data_dir / "storage"),
            base_img_url=(g("BASE_IMG_URL") or "").rstrip("/"),
            base_files_url=(g("BASE_FILES_URL") or "").rstrip("/"),
            public_api_url=(g("PUBLIC_API_URL") or "").rstrip("/"),
            url_signing_secret=g("URL_SIGNING_SECRET") or ("" if production else _DEV_SECRET),
            max_archive_bytes=_int(env, "MAX_ARCHIVE_BYTES", 2 * 1024**3),
            max_image_bytes=_int(env, "MAX_IMAGE_BYTES", 20 * 1024**2),
            download_url_ttl_s=_int(env, "DOWNLOAD_URL_TTL_S", 300),
            downloads_per_day=_int(env, "DOWNLOADS_PER_DAY", 100),
            upload_url_ttl_s=_int(env, "UPLOAD_URL_TTL_S", 3600),
            multipart_threshold_bytes=_int(env, "MULTIPART_THRESHOLD_BYTES", 64 * 1024**2),
            orphan_grace_s=_int(env, "ORPHAN_GRACE_S", 24 * 3600),
            storage_connect_timeout_s=float(g("STORAGE_CONNECT_TIMEOUT_S") or 2),
            storage_read_timeout_s=float(g("STORAGE_READ_TIMEOUT_S") or 15),
            storage_max_attempts=_int(env, "STORAGE_MAX_ATTEMPTS", 2),
            allowed_origins=_list(g("ALLOWED_ORIGINS")),
            trusted_proxies=_list(g("TRUSTED_PROXIES")) or ("127.0.0.1", "::1"),
            max_json_bytes=_int(env, "MAX_JSON_BYTES", 1024 * 1024),
            force_https=_bool(g("FORCE_HTTPS"), default=production),
            rate_limit_enabled=_bool(g("RATE_LIMIT_ENABLED"), default=True),
            rate_limit_auth_per_min=_int(env, "RATE_LIMIT_AUTH_PER_MIN", 20),
            rate_limit_write_per_min=_int(env, "RATE_LIMIT_WRITE_PER_MIN", 120),
            rate_limit_read_per_min=_int(env, "RATE_LIMIT_READ_PER_MIN", 1200),
            signin_failures_per_client=_int(env, "SIGNIN_FAILURES_PER_CLIENT", 5),
            signin_failures_per_account=_int(env, "SIGNIN_FAILURES_PER_ACCOUNT", 20),
            signin_failure_window_s=_int(env, "SIGNIN_FAILURE_WINDOW_S", 900),
            idempotency_ttl_s=_int(env, "IDEMPOTENCY_TTL_S", 24 * 3600),
            datadog_api_key=g("DATADOG_API_KEY", ""),
            dd_agent_host=g("DD_AGENT_HOST", ""),
            dd_dogstatsd_port=_int(env, "DD_DOGSTATSD_PORT", 8125),
            metrics_token=g("METRICS_TOKEN", ""),
            log_level=(g("LOG_LEVEL") or "INFO").upper(),
            business_timezone=g("BUSINESS_TIMEZONE") or "Asia/Tashkent",
            raw=env,
        )
        if production:
            settings.check_production()
        return settings

    def check_production(self) -> None:
        """Refuse to serve real users on an embedded default, a missing secret or plain-text DB."""
        problems: list[str] = []
        if not self.db_url:
            problems.append("DB_URL is not set (production refuses the embedded PostgreSQL)")
        else:
            sslmode = parse_qs(urlsplit(self.db_url).query).get("sslmode", [""])[0]
            if sslmode not in _TLS_SSLMODES:
                problems.append("DB_URL must require TLS (add ?sslmode=require or verify-full)")
        if not self.uses_s3:
            problems.append("S3_ACCOUNT_ID (or S3_ENDPOINT_URL) is not set (production refuses local storage)")
        else:
            for name, value in (("S3_ACCESS_ID", self.s3_access_id), ("S3_SECRET_KEY", self.s3_secret_key)):
                if not value:
                    problems.append(f"{name} is not set")
        if not self.base_img_url:
            problems.append("BASE_IMG_URL is not set")
        if not self.supabase_url:
            problems.append("SUPABASE_URL is not set (production refuses the built-in auth provider)")
        else:
            if not self.supabase_service_role_key:
                problems.append("SUPABASE_SERVICE_ROLE_KEY is not set")
        if not self.jwt_secret and not self.supabase_url:
            problems.append("SUPABASE_JWT_SECRET is not set")
        if not self.allowed_origins:
            problems.append("ALLOWED_ORIGINS is not set")
        if not self.metrics_token:
            problems.append("METRICS_TOKEN is not set (/metrics would be open)")
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between modules)."""
    get_settings.cache_clear()
