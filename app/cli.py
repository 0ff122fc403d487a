"""Operator commands: `flask create-user`, `flask ledger verify|rebuild`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app import ledger
from app.errors import APIError
from app.extensions import db

ledger_cli = AppGroup("ledger", help="Check or repair account balances against transactions.")


@ledger_cli.command("verify")
@click.option("--user-id", type=int, help="Only this user's accounts.")
def ledger_verify(user_id: int | None) -> None:
    """Exit 1 if any balance differs from opening balance + its transactions."""
    wrong = ledger.verify(db.session, user_id)
    for item in wrong:
        click.echo(
            f"account {item.account_id} (user {item.user_id}): balance {item.balance}, "
            f"expected {item.expected}, difference {item.balance - item.expected}"
        )
    if wrong:
        raise SystemExit(1)
    click.echo("All balances match their transactions.")


@ledger_cli.command("rebuild")
def ledger_rebuild() -> None:
    """Recompute every wrong balance from its transactions, in one database transaction."""
    fixed = ledger.rebuild(db.session)
    db.session.commit()
    click.echo(f"Corrected {len(fixed)} account(s).")


@click.command("create-user")
@click.argument("username")
@click.option("--email", default=None)
@click.password_option()
def create_user(username: str, email: str | None, password: str) -> None:
    """Create a user (with the default categories)."""
    from app.users import service
    from app.users.schemas import UserCreateSchema

    errors = UserCreateSchema().validate(
        {"username": username, "password": password, "email": email}
    )
    if errors:
        raise click.ClickException(str(errors))
    try:
        user = service.register(username, password, email)
        db.session.commit()
    except APIError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created user {user.id} {user.username!r}.")


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
    app.cli.add_command(create_user)
