"""Production refuses unsafe settings and names the one that is wrong."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, Settings

SAFE = {
    "NODE_ENV": "production",
    "DB_URL": "postgresql://u:p@aws-0-eu.pooler.supabase.com:5432/postgres?sslmode=require",
    "S3_ACCOUNT_ID": "acc",
    "S3_ACCESS_ID": "id",
    "S3_SECRET_KEY": "secret",
    "BASE_IMG_URL": "https://img.tridmo.com",
    "SUPABASE_URL": "https://proj.supabase.co",
    "SUPABASE_SERVICE_ROLE_KEY": "service",
    "SUPABASE_JWT_SECRET": "jwt",
    "ALLOWED_ORIGINS": "https://tridmo.com",
    "METRICS_TOKEN": "m",
}


def test_safe_production_settings_start():
    settings = Settings.from_env(SAFE)
    assert settings.is_production and settings.force_https
    assert settings.s3_endpoint == "https://acc.r2.cloudflarestorage.com"
    assert settings.db_pool_mode == "session"


@pytest.mark.parametrize(
    "change, named",
    [
        ({"DB_URL": ""}, "DB_URL"),
        ({"DB_URL": "postgresql://u:p@host:5432/db"}, "DB_URL"),
        ({"DB_URL": "postgresql://u:p@host:5432/db?sslmode=prefer"}, "DB_URL"),
        ({"S3_ACCOUNT_ID": ""}, "S3_ACCOUNT_ID"),
        ({"S3_SECRET_KEY": ""}, "S3_SECRET_KEY"),
        ({"SUPABASE_URL": ""}, "SUPABASE_URL"),
        ({"SUPABASE_SERVICE_ROLE_KEY": ""}, "SUPABASE_SERVICE_ROLE_KEY"),
        ({"ALLOWED_ORIGINS": ""}, "ALLOWED_ORIGINS"),
        ({"METRICS_TOKEN": ""}, "METRICS_TOKEN"),
    ],
)
def test_production_refuses_unsafe_settings(change, named):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**SAFE, **change})
    assert named in str(info.value)


def test_app_env_also_means_production():
    env = {**SAFE, "NODE_ENV": "", "APP_ENV": "production", "DB_URL": ""}
    with pytest.raises(ConfigError, match="DB_URL"):
        Settings.from_env(env)


def test_transaction_pooler_port_turns_prepared_statements_off():
    from shared.db.pool import connection_kwargs

    settings = Settings.from_env({"DB_URL": "postgresql://u:p@pooler.supabase.com:6543/postgres?sslmode=require"})
    assert settings.db_pool_mode == "transaction"
    assert connection_kwargs(settings)["prepare_threshold"] is None
    session = Settings.from_env({"DB_URL": "postgresql://u:p@pooler.supabase.com:5432/postgres"})
    assert "prepare_threshold" not in connection_kwargs(session)


def test_development_defaults_are_embedded():
    settings = Settings.from_env({})
    assert settings.uses_embedded_db and not settings.uses_s3 and not settings.uses_supabase
    assert settings.http_port == 4000


def test_bad_integer_names_the_setting():
    with pytest.raises(ConfigError, match="HTTP_PORT"):
        Settings.from_env({"HTTP_PORT": "eighty"})


def test_env_example_lists_every_setting():
    import re

    from shared.config import PROJECT_ROOT

    read = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', (PROJECT_ROOT / "shared" / "config.py").read_text())) - {"INFO"}
    # settings read outside config.py, through Settings.raw
    for path in (PROJECT_ROOT / "shared").rglob("*.py"):
        read |= set(re.findall(r'env_name="([A-Z][A-Z0-9_]+)"', path.read_text()))
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set(), "add these to .env.example"
