"""Operator commands (`flask ...`): create-user, reset-password, seed-demo, ledger verify,
and what `flask` does when the configuration cannot run: it lists the commands, and running
one prints the configuration error in one line and exits 1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, Config

ROOT = Path(__file__).resolve().parent.parent
PROJECT_COMMANDS = [
    "create-user",
    "db",
    "ledger",
    "prune-idempotency-keys",
    "reset-password",
    "seed-demo",
]

NEW_PASSWORD = "a brand new passphrase"


def login(client, username: str, password: str):
    return client.post("/token", data={"username": username, "password": password})


@pytest.mark.parametrize(
    "command",
    [["create-user"], ["reset-password"], ["seed-demo"], ["ledger", "verify"]],
)
def test_every_command_explains_itself_with_help(runner, command):
    result = runner.invoke(args=[*command, "--help"])

    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_create_user_makes_a_user_who_can_log_in(runner, client):
    result = runner.invoke(args=["create-user", "bob", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Created user" in result.output
    assert login(client, "bob", PASSWORD).status_code == 200


def test_create_user_keeps_the_username_as_registration_does(runner, client):
    result = runner.invoke(args=["create-user", "Ｂｏｂ", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "'Bob'" in result.output


@pytest.mark.parametrize(
    "username, password, message",
    [("bob", "12345678", "Too common"), ("bob​", PASSWORD, "PRECIS username")],
)
def test_create_user_applies_the_registration_rules(runner, username, password, message):
    result = runner.invoke(args=["create-user", username, "--password", password])

    assert result.exit_code == 1
    assert message in result.output


def test_create_user_refuses_a_taken_username(runner, user):
    result = runner.invoke(args=["create-user", user.username.upper(), "--password", PASSWORD])

    assert result.exit_code == 1
    assert "That username is taken." in result.output


def test_reset_password_lets_the_user_log_in_with_the_new_password(runner, client, user):
    result = runner.invoke(args=["reset-password", user.username, "--password", NEW_PASSWORD])

    assert result.exit_code == 0, result.output
    assert login(client, user.username, NEW_PASSWORD).status_code == 200
    assert login(client, user.username, PASSWORD).status_code == 401


def test_reset_password_revokes_the_users_tokens(runner, user):
    runner.invoke(args=["reset-password", user.username, "--password", NEW_PASSWORD])

    assert user.get("/users/me/").status_code == 401
    refreshed = user.client.post(
        "/token/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"}
    )
    assert refreshed.status_code == 401


def test_reset_password_prompts_twice_when_no_password_is_given(runner, client, user):
    answers = f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"

    result = runner.invoke(args=["reset-password", user.username], input=answers)

    assert result.exit_code == 0, result.output
    assert login(client, user.username, NEW_PASSWORD).status_code == 200


def test_reset_password_of_an_unknown_user_exits_1(runner):
    result = runner.invoke(args=["reset-password", "nobody", "--password", NEW_PASSWORD])

    assert result.exit_code == 1
    assert "No user 'nobody'" in result.output


def test_reset_password_refuses_a_too_short_password_and_keeps_the_old_one(runner, client, user):
    result = runner.invoke(args=["reset-password", user.username, "--password", "short"])

    assert result.exit_code == 1
    assert result.output == "Error: Password: Length must be between 8 and 128.\n"
    assert user.get("/users/me/").status_code == 200
    assert login(client, user.username, PASSWORD).status_code == 200


def test_seed_demo_creates_the_user_and_a_year_of_data_that_balances(runner, client):
    result = runner.invoke(args=["seed-demo", "--user", "demo"])

    assert result.exit_code == 0, result.output
    password = re.search(r"Password \(shown once\): (\S+)", result.output)[1]
    token = login(client, "demo", password).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/users/me/", headers=headers).json
    accounts = client.get(f"/users/{me['id']}/accounts/", headers=headers).json
    assert len(accounts) == 4
    listing = client.get(
        f"/users/{me['id']}/transactions/",
        query_string={"transaction_type": "transfer"},
        headers=headers,
    )
    assert int(listing.headers["X-Total-Count"]) >= 24
    total = client.get(f"/users/{me['id']}/transactions/", headers=headers)
    assert int(total.headers["X-Total-Count"]) > 300
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_seed_demo_refreshes_the_planner_statistics_of_what_it_loaded(app, runner):
    def planned_rows() -> float:
        with app.app_context():
            return db.session.scalar(
                sa.text("SELECT reltuples FROM pg_class WHERE relname = 'transactions'")
            )

    with app.app_context():
        db.session.execute(sa.text("ANALYZE transactions"))  # 0 rows, as the planner knows
        db.session.commit()
    before = planned_rows()

    assert runner.invoke(args=["seed-demo", "--user", "demo"]).exit_code == 0

    with app.app_context():
        loaded = db.session.scalar(sa.text("SELECT count(*) FROM transactions"))
    assert before <= 0
    assert planned_rows() == loaded > 300


def test_seed_demo_fills_an_existing_user_with_the_given_name(runner, user):
    result = runner.invoke(args=["seed-demo", "--user", user.username])

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    assert len(user.get(user.url("accounts")).json) == 4


def test_seed_demo_refuses_a_user_who_already_has_the_demo_accounts(runner, user):
    user.account(name="Savings")

    result = runner.invoke(args=["seed-demo", "--user", user.username])

    assert result.exit_code == 1
    assert "already has Savings" in result.output
    assert len(user.get(user.url("accounts")).json) == 1


def test_seed_demo_refuses_a_password_for_an_existing_user(runner, user):
    result = runner.invoke(args=["seed-demo", "--user", user.username, "--password", NEW_PASSWORD])

    assert result.exit_code == 1
    assert "reset-password" in result.output


def test_ledger_verify_exits_1_on_a_wrong_balance_and_0_after_rebuild(app, runner, account):
    with app.app_context():
        db.session.execute(sa.text("UPDATE accounts SET balance = balance + 1"))
        db.session.commit()

    broken = runner.invoke(args=["ledger", "verify"])
    rebuilt = runner.invoke(args=["ledger", "rebuild"])
    fixed = runner.invoke(args=["ledger", "verify"])

    assert broken.exit_code == 1
    assert "difference 0.01 USD" in broken.output
    assert "Corrected 1 account(s)." in rebuilt.output
    assert fixed.exit_code == 0


def test_ledger_verify_shows_amounts_as_decimals_with_their_currency(app, runner, user):
    dollars = user.account(name="Checking", opening_balance="10.00")
    yen = user.account(name="Yen", currency="JPY", opening_balance="1000")
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE accounts SET balance = balance + 250 WHERE id = :id"),
            {"id": dollars["id"]},
        )
        db.session.execute(
            sa.text("UPDATE accounts SET balance = balance - 7 WHERE id = :id"), {"id": yen["id"]}
        )
        db.session.commit()

    result = runner.invoke(args=["ledger", "verify", "--user-id", str(user.id)])
    runner.invoke(args=["ledger", "rebuild"])

    assert result.exit_code == 1
    assert (
        f"account {dollars['id']} (user {user.id}): "
        "balance 12.50 USD, expected 10.00 USD, difference 2.50 USD"
    ) in result.output
    assert (
        f"account {yen['id']} (user {user.id}): "
        "balance 993 JPY, expected 1000 JPY, difference -7 JPY"
    ) in result.output


# -- validation errors read as sentences ------------------------------------------------------


def test_create_user_says_what_is_wrong_with_the_password_in_a_sentence(runner):
    result = runner.invoke(args=["create-user", "bob", "--password", "short"])

    assert result.exit_code == 1
    assert result.output == "Error: Password: Length must be between 8 and 128.\n"


def test_create_user_lists_every_problem_on_one_line(runner):
    result = runner.invoke(args=["create-user", "bo", "--password", "bo", "--email", "nope"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    for sentence in (
        "Username: Length must be between 3 and 64.",
        "Password: Length must be between 8 and 128.",
        "Email: Not a valid email address.",
    ):
        assert sentence in lines[0]
    assert "{" not in result.output and "[" not in result.output


def test_reset_password_and_seed_demo_word_their_errors_the_same_way(runner, user):
    reset = runner.invoke(args=["reset-password", user.username, "--password", "short"])
    seed = runner.invoke(args=["seed-demo", "--user", "newcomer", "--password", "short"])

    assert reset.output == "Error: Password: Length must be between 8 and 128.\n"
    assert seed.output == "Error: Password: Length must be between 8 and 128.\n"


# -- errors are one line, not a traceback -----------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_database_is_one_line_not_a_traceback():
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/nowhere"
    unreachable = create_app(Config(url))
    try:
        result = unreachable.test_cli_runner().invoke(args=["ledger", "verify"])
    finally:
        with unreachable.app_context():
            db.engine.dispose()

    assert result.exit_code == 1
    assert result.output.startswith("Error: Database error: ")
    assert len(result.output.splitlines()) == 1, result.output


def flask_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi ARGS` in production with nothing set: no DATABASE_URL, no keys."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "APP_ENV": "production",
        # Set but empty: a developer's .env (read by config.py and by flask) cannot fill them.
        "DATABASE_URL": "",
        "SECRET_KEY": "",
        "JWT_SECRET_KEY": "",
        "FLASK_SKIP_DOTENV": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_flask_help_lists_every_command_even_when_production_is_not_configured():
    result = flask_cli("--help")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    listed = re.findall(r"^  (\S+)", result.stdout.split("Commands:")[1], flags=re.M)
    assert set(PROJECT_COMMANDS) <= set(listed), listed


@pytest.mark.parametrize(
    "command",
    [
        ["create-user", "bob"],
        ["create-user", "bob", "--help"],
        ["ledger", "verify"],
        ["prune-idempotency-keys"],
        ["db", "upgrade"],
        ["run"],
        ["shell"],
    ],
)
def test_a_command_on_an_unconfigured_production_says_why_in_one_line(command):
    result = flask_cli(*command)

    assert result.returncode == 1
    assert result.stderr == "Error: DATABASE_URL must be set in production.\n"


def test_a_weak_key_is_named_in_one_line_too():
    result = flask_cli("create-user", "bob", DATABASE_URL="postgresql://db.invalid/x")

    assert result.returncode == 1
    assert result.stderr.startswith("Error: SECRET_KEY must be set to a random string")
    assert len(result.stderr.splitlines()) == 1


def test_gunicorn_still_refuses_an_unconfigured_production():
    # gunicorn imports wsgi.py outside of `flask`: the error is raised, so no worker boots.
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "APP_ENV": "production", "DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "config.ConfigError: DATABASE_URL must be set in production." in result.stderr
