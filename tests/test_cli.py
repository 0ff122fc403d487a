"""Operator commands (`flask ...`): create-user, reset-password, seed-demo, ledger verify."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import PASSWORD

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
    assert "password" in result.output
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
    assert "difference 1" in broken.output
    assert "Corrected 1 account(s)." in rebuilt.output
    assert fixed.exit_code == 0
