"""The container files, checked by reading them (test_system_compose.py runs them on Docker).

docker-compose.yml is parsed and checked for its services, images, health checks, named
volume, start order, secrets (only from `.env`, never written in the file), loopback-only
ports, the internal network and the settings the app needs; the Dockerfile for a slim base,
the optional wheelhouse, layer order, a non-root user and the entrypoint; .dockerignore and
.gitignore for what must stay out of the image and out of git. One test runs the app: logins
must survive the compose file's Redis going away. (README checks: test_readme.py.)
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # docker compose: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("app", "replica")
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "POSTGRES_PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Docker Compose's variable substitution, enough of it for this file."""

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        current = env.get(name)
        missing = current is None or (
            operator is not None and operator.startswith(":") and not current
        )
        if operator and operator.endswith("?") and missing:
            raise KeyError(f"{name}: {argument}")
        if operator and operator.endswith("-") and missing:
            return argument
        return current or ""

    return VARIABLE.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def service_environment(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_compose_runs_postgresql_15_redis_and_the_app(compose):
    services = compose["services"]
    assert {"db", "redis", "app"} <= set(services)
    # The official images unless a variable names others (docker/local-images.sh's stand-ins).
    assert interpolate(services["db"]["image"], {}) == "postgres:15"
    assert interpolate(services["redis"]["image"], {}) == "redis:7-alpine"
    assert interpolate(services["nginx"]["image"], {}) == "nginx:1.27-alpine"
    assert interpolate(services["db"]["image"], {"POSTGRES_IMAGE": "local/postgres:15"}) == (
        "local/postgres:15"
    )
    build = services["app"]["build"]
    assert build["context"] == "."
    assert interpolate(build["args"]["BASE_IMAGE"], {}) == "python:3.11-slim"
    assert interpolate(build["args"]["BASE_IMAGE"], {"PYTHON_IMAGE": "local/python:3.11"}) == (
        "local/python:3.11"
    )


def test_every_image_variable_names_the_stand_in_local_images_builds(compose):
    # The script prints VARIABLE=image lines for .env; each must be one compose reads.
    script = (ROOT / "docker" / "local-images.sh").read_text()
    printed = dict(re.findall(r"^([A-Z_]+_IMAGE)=(local/\S+)$", script, re.MULTILINE))
    assert set(printed) == {"PYTHON_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"}
    text = (ROOT / "docker-compose.yml").read_text()
    for name in printed:
        assert f"${{{name}:-" in text


def test_ports_are_published_on_loopback_only(compose):
    published = [
        (name, port)
        for name, service in compose["services"].items()
        for port in service.get("ports", [])
    ]
    assert {name for name, _ in published} == {"app", "nginx"}
    for name, port in published:
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_postgresql_and_redis_are_on_an_internal_network_only(compose):
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("db", "redis"):
        assert compose["services"][name]["networks"] == ["backend"]
    for name in APP_SERVICES:
        assert "backend" in compose["services"][name]["networks"]


def test_every_service_has_a_health_check(compose):
    # `docker compose up --wait` (and the system test) rely on it; app's is in the Dockerfile.
    for name, service in compose["services"].items():
        assert name in APP_SERVICES or service["healthcheck"]["test"], name
    assert "/healthz" in " ".join(compose["services"]["nginx"]["healthcheck"]["test"])


def test_postgresql_keeps_its_data_on_a_named_volume(compose):
    volumes = compose["services"]["db"]["volumes"]
    named = [v.split(":")[0] for v in volumes if v.endswith(":/var/lib/postgresql/data")]
    assert named and named[0] in compose["volumes"], "PGDATA must be on a declared named volume"


def test_postgresql_health_check_uses_pg_isready(compose):
    check = compose["services"]["db"]["healthcheck"]
    assert "pg_isready" in " ".join(check["test"])
    assert check["interval"] and check["retries"] >= 3


def test_redis_health_check_pings_it(compose):
    check = compose["services"]["redis"]["healthcheck"]
    assert check["test"][-2:] == ["redis-cli", "ping"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_starts_only_once_postgresql_and_redis_are_healthy(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    for dependency in ("db", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_secrets_come_from_the_environment_and_are_required(compose, name):
    environment = service_environment(compose["services"][name])
    for secret in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", environment[secret])
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def test_compose_file_contains_no_secret_literal(compose):
    # Every value of a secret-looking setting, in any service, must be a required substitution.
    for name, service in compose["services"].items():
        for key, value in service_environment(service).items():
            if re.search(r"SECRET|PASSWORD|TOKEN|_KEY$", key):
                assert VARIABLE.fullmatch(value), f"{name}.{key} is written in the file: {value}"
    # And no URL carries a written password.
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"://[^:/@\s]+:[^$@\s][^@\s]*@", text)


def test_compose_refuses_to_start_without_each_secret(compose):
    filled = {name: secrets.token_urlsafe(48) for name in SECRET_NAMES}
    environment = compose["services"]["app"]["environment"]
    for missing in SECRET_NAMES:
        env = {name: value for name, value in filled.items() if name != missing}
        with pytest.raises(KeyError, match=missing):
            for value in environment.values():
                interpolate(str(value), env)


def test_app_environment_filled_from_env_file_is_accepted_by_production(compose, monkeypatch):
    import config

    env = {**env_example(), **{name: secrets.token_urlsafe(48) for name in SECRET_NAMES}}
    environment = {
        key: interpolate(value, env)
        for key, value in service_environment(compose["services"]["app"]).items()
    }
    assert environment["APP_ENV"] == "production"
    assert environment["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert environment["DATABASE_URL"] == (
        f"postgresql://finance:{env['POSTGRES_PASSWORD']}@db:5432/finance"
    )
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings = config.get_config()
    settings.check()  # raises if production would refuse to start
    assert settings.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg2://finance:")
    assert settings.RATELIMIT_STORAGE_URI == "redis://redis:6379/0"


def test_every_variable_the_compose_file_uses_is_in_env_example(compose):
    used = set(VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    assert {name for name, _, _ in used} <= set(env_example())
    for name in SECRET_NAMES:
        assert env_example()[name] == "", f"{name} must be left for the operator to generate"


@pytest.fixture(scope="module")
def gunicorn_settings() -> dict:
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_containers_let_gunicorn_finish_requests_on_stop(compose, gunicorn_settings, name):
    grace = compose["services"][name]["stop_grace_period"]
    assert int(grace.rstrip("s")) > gunicorn_settings["graceful_timeout"]


def test_scale_profile_runs_two_replicas_behind_nginx(compose):
    services = compose["services"]
    replica, nginx = services["replica"], services["nginx"]
    assert replica["profiles"] == ["scale"] and nginx["profiles"] == ["scale"]
    assert replica["deploy"]["replicas"] == 2
    assert "ports" not in replica  # reached only through nginx
    assert nginx["depends_on"]["replica"]["condition"] == "service_healthy"
    assert any(v.startswith("./docker/nginx.conf:") for v in nginx["volumes"])
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    assert re.search(r"upstream \w+ \{\s*server replica:8000\b", conf)
    assert "proxy_set_header X-Forwarded-For $remote_addr" in conf


def test_replicas_leave_migrations_to_the_release_and_trust_one_proxy_hop(compose):
    environment = service_environment(compose["services"]["replica"])
    assert environment["RUN_MIGRATIONS"] == "0"
    assert environment["PROXY_FIX_X_FOR"] == "1"
    # ...and they start only after `app` (which migrates) is healthy.
    assert compose["services"]["replica"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_dockerfile_uses_a_slim_python_311_base(dockerfile):
    # An ARG, so that an offline machine can build on local/python:3.11 (docker/local-images.sh).
    assert dockerfile[0] == "ARG BASE_IMAGE=python:3.11-slim"
    stages = [line for line in dockerfile if line.startswith("FROM ")]
    assert stages == ["FROM ${BASE_IMAGE} AS build", "FROM ${BASE_IMAGE}"]


def test_dockerfile_installs_requirements_before_copying_the_code(dockerfile):
    def index(prefix: str) -> int:
        return next(i for i, line in enumerate(dockerfile) if line.startswith(prefix))

    copy_requirements = index("COPY requirements.txt ")
    install = index("RUN python -m venv")
    copy_venv = dockerfile.index("COPY --from=build /opt/venv /opt/venv")
    copy_code = index("COPY app ")
    assert copy_requirements < install < copy_venv < copy_code


def test_dockerfile_installs_from_the_wheelhouse_only_when_there_is_one(dockerfile):
    copy = next(line for line in dockerfile if line.startswith("COPY requirements.txt "))
    # A pattern, not a path: COPY succeeds without wheels/.
    assert copy.split()[1:] == ["requirements.txt", "wheel[s]", "/tmp/install/"]
    install = next(line for line in dockerfile if line.startswith("RUN python -m venv"))
    assert "pip install --no-index --find-links /tmp/install -r" in install
    assert "else" in install and "pip install -r /tmp/install/requirements.txt" in install
    # The wheels stay in the build stage: the image copies only the venv and the code.
    final = dockerfile[dockerfile.index("FROM ${BASE_IMAGE}") :]
    copies = [line.split()[1:-1] for line in final if line.startswith("COPY ")]
    assert all("wheel" not in " ".join(sources) and "." not in sources for sources in copies)
    assert "wheels" in (ROOT / ".gitignore").read_text().split()[-1]
    dockerignore = (ROOT / ".dockerignore").read_text()
    assert "wheels" not in dockerignore  # the build context must carry it


def test_dockerfile_copies_every_top_level_module_the_server_imports(dockerfile):
    copied = set()
    for line in dockerfile:
        if line.startswith("COPY ") and "--from" not in line:
            copied |= set(line.split()[1:-1])
    assert {"app", "migrations", "docker/entrypoint.sh"} <= copied
    assert {path.name for path in ROOT.glob("*.py")} <= copied


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0", "0:0"}
    # Nothing runs as root after the switch.
    last_user = max(i for i, line in enumerate(dockerfile) if line.startswith("USER "))
    assert not any(line.startswith("RUN ") for line in dockerfile[last_user:])


def test_dockerfile_runs_production_through_the_entrypoint(dockerfile):
    assert "APP_ENV=production" in " ".join(line for line in dockerfile if line.startswith("ENV "))
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile
    assert "WORKDIR /app" in dockerfile
    assert "exec gunicorn --config gunicorn.conf.py" in (ROOT / "docker/entrypoint.sh").read_text()


def test_dockerfile_health_check_calls_a_route_the_app_has(dockerfile):
    from app import create_app

    check = next(line for line in dockerfile if line.startswith("HEALTHCHECK "))
    path = re.search(r"/(\w+)', timeout", check).group(1)
    routes = {rule.rule.rstrip("/") for rule in create_app("testing").url_map.iter_rules()}
    assert f"/{path}" in routes


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "instance", ".env"} <= entries
    assert "docker" not in entries  # the entrypoint and nginx.conf are needed


def test_login_still_answers_when_the_rate_limit_redis_is_down(app):
    # compose puts the rate-limit counters in Redis; losing Redis must not turn logins into 500s.
    # A separate process, because the limiter extension object is shared by every app in one.
    script = (
        "from app import create_app\n"
        "client = create_app().test_client()\n"
        "for _ in range(2):\n"
        "    r = client.post('/token', data={'username': 'nobody', 'password': 'wrong-password'})\n"
        "    print(r.status_code, flush=True)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "APP_ENV": "production",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:18129/0",  # nothing listens there
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["401", "401"]
    assert "falling back to in-memory storage" in result.stderr
