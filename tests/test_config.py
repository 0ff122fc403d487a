"""Configuration: APP_ENV picks the class, production refuses unsafe settings, database URLs are
normalised, development keeps a generated key, and the factory builds (flaskr's test_factory).

These tests build configurations and apps but need no database: no `app` fixture here.
"""

from __future__ import annotations

import stat

import pytest

import config
from app import create_app
from config import (
    DevelopmentConfig,
    ProductionConfig,
    get_config,
    normalise_database_url,
)

STRONG = "kR3v9Qx2Lm8Tz4Wb7Np1Hs6Jd5Fg0Yc-_uEaq"  # 38 characters, many distinct
STRONG_JWT = "Zp4Xw8Rt2Yu6Io0Pa3Sd7Fg1Hj5Kl9-_MnBvCq"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting leaks in from the shell, and instance/ is a temporary folder."""
    for name in ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "ALLOW_REGISTRATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    return tmp_path / "instance"


@pytest.fixture
def production_env(monkeypatch):
    """Everything production needs; tests remove or weaken one piece."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://finance:pw@db:5432/finance")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("JWT_SECRET_KEY", STRONG_JWT)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://redis:6379/0")


# --- APP_ENV --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, cls",
    [
        ("development", DevelopmentConfig),
        ("testing", config.TestingConfig),
        ("production", ProductionConfig),
    ],
)
def test_app_env_selects_the_configuration(monkeypatch, name, cls):
    monkeypatch.setenv("APP_ENV", name)

    assert type(get_config()) is cls


def test_app_env_is_read_case_insensitively(monkeypatch):
    monkeypatch.setenv("APP_ENV", " Testing ")

    assert type(get_config()) is config.TestingConfig


def test_without_app_env_the_configuration_is_production():
    assert type(get_config()) is ProductionConfig


def test_an_explicit_name_wins_over_app_env(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")

    assert type(get_config("testing")) is config.TestingConfig


def test_unknown_app_env_is_refused(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")

    with pytest.raises(RuntimeError, match="APP_ENV"):
        get_config()


def test_settings_are_read_from_the_environment_when_instantiated(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "5")
    monkeypatch.setenv("ALLOW_REGISTRATION", "false")

    settings = config.TestingConfig()

    assert settings.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 300
    assert settings.ALLOW_REGISTRATION is False


# --- production refuses unsafe settings -----------------------------------------------------


def test_production_starts_with_a_database_url_and_strong_keys(production_env):
    app = create_app("production")

    assert app.config["SECRET_KEY"] == STRONG
    assert app.config["JWT_SECRET_KEY"] == STRONG_JWT
    assert not app.config.get("TESTING")


@pytest.mark.parametrize("value", [None, "", "  "])
def test_production_refuses_to_start_without_a_rate_limit_storage(
    production_env, monkeypatch, value
):
    """memory:// by default would give each gunicorn worker its own failed-login counts."""
    if value is None:
        monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    else:
        monkeypatch.setenv("RATELIMIT_STORAGE_URI", value)

    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI must be set in production"):
        create_app("production")


def test_production_takes_an_explicit_memory_storage(production_env, monkeypatch):
    """A single-process deployment may choose per-process counters, by saying so."""
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")

    assert create_app("production").config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_development_keeps_memory_storage_by_default(monkeypatch):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)

    assert config.DevelopmentConfig().RATELIMIT_STORAGE_URI == "memory://"


def test_production_refuses_to_start_without_database_url(production_env, monkeypatch):
    monkeypatch.delenv("DATABASE_URL")

    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app("production")


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_to_start_without_a_key(production_env, monkeypatch, name):
    monkeypatch.delenv(name)

    with pytest.raises(RuntimeError, match=name):
        create_app("production")


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
@pytest.mark.parametrize(
    "weak",
    ["", "dev", "secret", "changeme", "CHANGEME", "short-but-random-Xy7", "x" * 31, "x" * 64],
)
def test_production_refuses_to_start_with_a_weak_key(production_env, monkeypatch, name, weak):
    monkeypatch.setenv(name, weak)

    with pytest.raises(RuntimeError, match=name):
        create_app("production")


def test_production_does_not_generate_keys(production_env, monkeypatch, clean_environment):
    monkeypatch.delenv("SECRET_KEY")

    with pytest.raises(RuntimeError):
        create_app("production")
    assert not clean_environment.exists()


def test_wsgi_defaults_to_production_and_refuses_to_start_unconfigured():
    # wsgi.py is `create_app()`: with no APP_ENV and no settings it must refuse, not run weakly.
    with pytest.raises(RuntimeError):
        create_app()


# --- database URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg2://u:p@host:5432/db"),
        ("postgresql://u:p@host:5432/db", "postgresql+psycopg2://u:p@host:5432/db"),
        ("postgresql+psycopg2://u@host/db", "postgresql+psycopg2://u@host/db"),
        ("sqlite:////tmp/finance.db", "sqlite:////tmp/finance.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg2(url, expected):
    assert normalise_database_url(url) == expected


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_from_the_environment_is_normalised(production_env, monkeypatch, scheme):
    monkeypatch.setenv("DATABASE_URL", f"{scheme}://finance:pw@db:5432/finance")

    app = create_app("production")

    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://finance:pw@db:5432/finance"
    )


def test_testing_reads_test_database_url(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/other_test")

    assert config.TestingConfig().SQLALCHEMY_DATABASE_URI == (
        "postgresql+psycopg2://postgres@127.0.0.1:5432/other_test"
    )


# --- development keeps a generated key ------------------------------------------------------


def test_development_generates_keys_under_instance(clean_environment):
    settings = DevelopmentConfig()

    assert len(settings.SECRET_KEY) >= 32
    assert len(settings.JWT_SECRET_KEY) >= 32
    assert settings.SECRET_KEY != settings.JWT_SECRET_KEY
    assert (clean_environment / "secret_key").read_text().strip() == settings.SECRET_KEY
    assert (clean_environment / "jwt_secret_key").read_text().strip() == settings.JWT_SECRET_KEY


def test_development_keeps_its_key_across_restarts(clean_environment):
    first = DevelopmentConfig()
    second = DevelopmentConfig()

    assert second.SECRET_KEY == first.SECRET_KEY
    assert second.JWT_SECRET_KEY == first.JWT_SECRET_KEY


def test_development_key_files_are_readable_only_by_their_owner(clean_environment):
    DevelopmentConfig()

    mode = stat.S_IMODE((clean_environment / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_development_uses_keys_from_the_environment_when_given(monkeypatch, clean_environment):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("JWT_SECRET_KEY", STRONG_JWT)

    settings = DevelopmentConfig()

    assert settings.SECRET_KEY == STRONG
    assert not clean_environment.exists()


def test_development_defaults_to_sqlite_under_instance():
    assert DevelopmentConfig().SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert DevelopmentConfig().SQLALCHEMY_DATABASE_URI.endswith("instance/finance.db")


# --- the factory ----------------------------------------------------------------------------


def test_factory_builds_with_the_testing_config():
    app = create_app("testing")

    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg2://")


def test_factory_accepts_a_config_instance():
    settings = config.TestingConfig()
    settings.ALLOW_REGISTRATION = False

    assert create_app(settings).config["ALLOW_REGISTRATION"] is False


def test_factory_reads_app_env_when_given_nothing(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")

    assert create_app().config["TESTING"] is True


def test_factory_builds_for_development(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")

    app = create_app("development")

    assert not app.config.get("TESTING")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert len(app.config["SECRET_KEY"]) >= 32


def test_json_bodies_are_limited_to_one_mib_by_default():
    assert config.TestingConfig().MAX_CONTENT_LENGTH == 1024 * 1024
