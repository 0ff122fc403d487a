"""Configuration classes, all read from the environment (and a `.env` file when present).

`APP_ENV` (development | testing | production) picks the class; see `get_config`.
Every variable is listed in the README.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")

MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "please-change-me"}
#: A random key of 32+ characters has far more distinct characters; "x" * 40 is not a key.
MIN_SECRET_DISTINCT_CHARACTERS = 8


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Map `postgres://` and bare `postgresql://` to psycopg2.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which we do not install;
    Heroku-style `postgres://` is not recognised at all.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


class ConfigError(RuntimeError):
    """A configuration that cannot run; the message, one sentence, says what to set."""


class Config:
    """Settings shared by every environment, read from the environment when instantiated."""

    ENV_NAME = "base"
    DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'finance.db'}"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not turn every login into a 500: each process falls back to counting in
    # memory (and returns to Redis once it answers), and never fails a request over a counter.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    API_TITLE = "Personal Finance Tracker API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/swagger-ui"
    OPENAPI_SWAGGER_UI_URL = "/docs-assets/swagger-ui/"
    OPENAPI_REDOC_PATH = "/redoc"
    OPENAPI_REDOC_URL = "/docs-assets/redoc/redoc.standalone.js"  # app/docs.py
    API_SPEC_OPTIONS = {
        "info": {
            "description": "Accounts, categories and transactions of one person, with exact money.",
        },
        "components": {
            "securitySchemes": {
                "OAuth2PasswordBearer": {
                    "type": "oauth2",
                    "flows": {"password": {"tokenUrl": "/token", "scopes": {}}},
                }
            }
        },
    }

    def __init__(self) -> None:
        env = os.environ.get
        self.SECRET_KEY = env("SECRET_KEY", "")
        self.JWT_SECRET_KEY = env("JWT_SECRET_KEY", "")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env("DATABASE_URL") or self.DEFAULT_DATABASE_URL
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            # A connection dropped by a database restart is noticed and replaced when it is
            # taken from the pool, without a round trip (app.common.db.drop_closed_connection).
            "pool_pre_ping": False,
            "pool_recycle": 1800,
        }
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            minutes=env_int("ACCESS_TOKEN_EXPIRE_MINUTES", 30)
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=env_int("REFRESH_TOKEN_EXPIRE_DAYS", 30))
        # JSON bodies; uploads (imports, restores) get their own, larger limit.
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
        # Uploads: a bank file to import, a backup to restore (see app.common.http: a view
        # class names the limit it takes with `body_limit`).
        self.MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 32 * 1024 * 1024)
        self.IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
        # An import adding at least this many rows refreshes the planner statistics (ANALYZE).
        self.IMPORT_ANALYZE_ROWS = env_int("IMPORT_ANALYZE_ROWS", 10_000)
        self.ALLOW_REGISTRATION = env_bool("ALLOW_REGISTRATION", True)
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
        # Flask-Limiter's own setting: keeps two deployments on one Redis apart.
        self.RATELIMIT_KEY_PREFIX = env("RATELIMIT_KEY_PREFIX", "")
        self.LOGIN_RATE_LIMIT_USER = env("LOGIN_RATE_LIMIT_USER", "5 per minute")
        self.LOGIN_RATE_LIMIT_IP = env("LOGIN_RATE_LIMIT_IP", "30 per minute")
        self.REGISTER_RATE_LIMIT = env("REGISTER_RATE_LIMIT", "30 per hour")
        self.PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
        self.CORS_ORIGINS = [o.strip() for o in env("CORS_ORIGINS", "").split(",") if o.strip()]
        self.LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
        # Prometheus metrics at /metrics (app.observability); off unless asked for.
        self.METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
        # Under gunicorn: an empty directory shared by the workers (read by prometheus_client
        # itself too, so set it in the environment, not only here).
        self.PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", "")
        # argon2id; the defaults are argon2-cffi's (RFC 9106 low-memory), above OWASP's minimum.
        self.ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST = env_int("ARGON2_MEMORY_COST", 65536)
        self.ARGON2_PARALLELISM = env_int("ARGON2_PARALLELISM", 4)

    def check(self) -> None:
        """Raise ConfigError when this configuration cannot run safely."""


class DevelopmentConfig(Config):
    """`make run`: SQLite under instance/, a generated key kept in instance/."""

    ENV_NAME = "development"

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or instance_secret("secret_key")
        self.JWT_SECRET_KEY = self.JWT_SECRET_KEY or instance_secret("jwt_secret_key")


class TestingConfig(Config):
    """The test suite: PostgreSQL from TEST_DATABASE_URL, fixed keys, rate limits in memory."""

    ENV_NAME = "testing"
    TESTING = True
    DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/finance_test"

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("TEST_DATABASE_URL") or self.DEFAULT_DATABASE_URL
        )
        self.SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
        self.JWT_SECRET_KEY = "test-jwt-secret-key-that-is-long-enough-0123456789"
        self.RATELIMIT_STORAGE_URI = "memory://"
        # Tests register hundreds of users from one address; rate-limit tests set their own.
        self.REGISTER_RATE_LIMIT = "100000 per hour"
        self.LOGIN_RATE_LIMIT_USER = "100000 per minute"
        self.LOGIN_RATE_LIMIT_IP = "100000 per minute"
        # OWASP's minimum argon2id parameters (m=19 MiB, t=2, p=1): still real, but faster.
        self.ARGON2_TIME_COST = 2
        self.ARGON2_MEMORY_COST = 19456
        self.ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    """gunicorn / docker compose: refuses to start without real secrets and a database."""

    ENV_NAME = "production"

    def check(self) -> None:
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL must be set in production.")
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = getattr(self, name)
            if (
                value.lower() in WEAK_SECRETS
                or len(value) < MIN_SECRET_LENGTH
                or len(set(value)) < MIN_SECRET_DISTINCT_CHARACTERS
            ):
                raise ConfigError(
                    f"{name} must be set to a random string of at least {MIN_SECRET_LENGTH} "
                    'characters in production (python -c "import secrets; '
                    'print(secrets.token_urlsafe(48))").'
                )
        # memory:// counts per process: under several workers each one lets its own five
        # failed logins through. Only an explicit choice gets that (a single-process deployment).
        if not os.environ.get("RATELIMIT_STORAGE_URI", "").strip():
            raise RuntimeError(
                "RATELIMIT_STORAGE_URI must be set in production: redis://HOST:6379/0 so that "
                "every worker shares the rate-limit counts (memory:// only for a single process)."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> Config:
    """The configuration named by `name`, else by APP_ENV, else production, read now."""
    name = (name or os.environ.get("APP_ENV") or "production").strip().lower()
    if name not in CONFIGS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]()


def instance_secret(filename: str) -> str:
    """A random key generated once and kept under instance/, so tokens survive a restart."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
