"""Operator commands: `flask create-user | reset-password | seed-demo | ledger verify|rebuild|
post-due | prune-idempotency-keys` (and Flask-Migrate's `db`). Each has --help; every error is
one line on stderr and exit status 1 (a ClickException), never a traceback.
"""

from __future__ import annotations

import secrets
from datetime import date

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, with_appcontext
from marshmallow import ValidationError

from app import ledger
from app.common.db import analyse
from app.common.errors import APIError
from app.common.money import format_minor
from app.extensions import db
from config import ConfigError


def database_error_message(error: sa.exc.DBAPIError) -> str:
    """The driver's first line, and the fix when the tables are missing (42P01 on PostgreSQL)."""
    detail = str(error.orig or error).strip().splitlines()[0]
    if getattr(error.orig, "pgcode", None) == "42P01" or "no such table" in detail:
        return f"The database has no tables yet ({detail}); run `flask db upgrade` first."
    return f"Database error: {detail}"


class Command(click.Command):
    """A project command: an unreachable or unmigrated database is one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except sa.exc.OperationalError as error:
            raise click.ClickException(database_error_message(error)) from None
        except sa.exc.ProgrammingError as error:
            if getattr(error.orig, "pgcode", None) != "42P01":
                raise  # a bug, not an operator's mistake: keep its traceback
            raise click.ClickException(database_error_message(error)) from None


class Group(AppGroup):
    """A command group whose commands are `Command`s."""

    command_class = Command


def validation_message(errors: dict) -> str:
    """Marshmallow's errors as sentences on one line, each the field's name, a colon and the
    rule it broke: "Username: Length must be between 3 and 64. Password: ...". Every command
    words invalid input this way."""
    sentences = []
    for field, messages in errors.items():
        if isinstance(messages, dict):
            messages = [validation_message(messages)]
        label = "" if field == "_schema" else f"{field.replace('_', ' ').capitalize()}: "
        sentences.extend(f"{label}{message}" for message in messages)
    return " ".join(sentences)


def money(minor: int, currency: str) -> str:
    """Minor units as an operator reads them: "12.50 USD"."""
    return f"{format_minor(minor, currency)} {currency}"


ledger_cli = Group(
    "ledger",
    help="Check or repair account balances against transactions; post recurring ones due.",
)


@ledger_cli.command("verify")
@click.option("--user-id", type=int, help="Only this user's accounts.")
def ledger_verify(user_id: int | None) -> None:
    """Exit 1 if any balance (or cleared or reconciled balance) differs from opening balance
    + its transactions (its cleared and reconciled ones, its reconciled ones), or a monthly
    rollup the reports read from what its transactions add up to."""
    wrong = ledger.verify(user_id)
    for item in wrong:

        def shown(value: int, item=item) -> str:
            return money(value, item.currency) if item.money else str(value)

        click.echo(
            f"account {item.account_id} (user {item.user_id}): "
            f"{item.column.replace('_', ' ')} {shown(item.balance)}, "
            f"expected {shown(item.expected)}, "
            f"difference {shown(item.balance - item.expected)}"
        )
    if wrong:
        raise SystemExit(1)
    click.echo("All balances match their transactions, and so do the monthly rollups.")


@ledger_cli.command("rebuild")
def ledger_rebuild() -> None:
    """Recompute every wrong balance (and monthly rollup) from the transactions, in one
    database transaction."""
    fixed = ledger.rebuild()
    db.session.commit()
    click.echo(f"Corrected {len({item.account_id for item in fixed})} account(s).")


@ledger_cli.command("post-due")
@click.option(
    "--date",
    "until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Post what is due up to this day YYYY-MM-DD (default: today, UTC).",
)
def ledger_post_due(until) -> None:
    """Post every recurring transaction's occurrences due by today, each exactly once.

    For cron: run it as often as you like, even twice at once; every date is posted once.
    Each schedule is its own database transaction, so one that cannot post (an archived
    account, say) is reported and the others still post; exits 1 if any failed.
    """
    from app.recurring import service

    day = until.date() if until else service.today()
    posted = failed = 0
    for user_id, recurring_id in service.due_schedules(day):
        try:
            posted += len(service.post_due(user_id, recurring_id, until=day))
            db.session.commit()
        except APIError as exc:
            db.session.rollback()
            failed += 1
            click.echo(f"schedule {recurring_id} (user {user_id}): {exc.message}", err=True)
    click.echo(f"Posted {posted} transaction(s) due by {day}.")
    if failed:
        raise SystemExit(1)


@click.command("create-user", cls=Command)
@click.argument("username")
@click.option("--email", default=None)
@click.password_option()
@with_appcontext
def create_user(username: str, email: str | None, password: str) -> None:
    """Create a user (with the default categories)."""
    from app.users import service
    from app.users.schemas import UserCreateSchema

    try:
        # load, not validate: the username is kept in its PRECIS form, as the API keeps it.
        data = UserCreateSchema().load({"username": username, "password": password, "email": email})
    except ValidationError as error:
        raise click.ClickException(validation_message(error.messages)) from None
    try:
        user = service.register(**data)
        db.session.commit()
    except APIError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created user {user.id} {user.username!r}.")


def find_user(username: str):
    from sqlalchemy import select

    from app.users.models import User, canonical_username

    return db.session.scalar(
        select(User).where(User.username_canonical == canonical_username(username))
    )


def registration_errors(username: str, password: str) -> dict[str, list[str]]:
    from app.users.schemas import UserCreateSchema

    return UserCreateSchema().validate({"username": username, "password": password})


def normalised_username(username: str) -> str:
    """The form registration keeps (PRECIS UsernameCasePreserved); call after check_new_user."""
    from app.users.schemas import Username

    return Username().deserialize(username)


def check_new_user(username: str, password: str) -> None:
    """The registration rules for a username and password, as a ClickException."""
    if errors := registration_errors(username, password):
        raise click.ClickException(validation_message(errors))


def check_new_password(username: str, password: str) -> None:
    """The registration rules for a password (length, not the username), as a ClickException."""
    if messages := registration_errors(username, password).get("password"):
        raise click.ClickException(validation_message({"password": messages}))


@click.command("reset-password", cls=Command)
@click.argument("username")
@click.password_option(help="The new password (prompted for, twice, when not given).")
@with_appcontext
def reset_password(username: str, password: str) -> None:
    """Set USERNAME's password, for a user locked out, and revoke every token they hold.

    Exits 1 if there is no such user or the password breaks the rules (8-128 characters,
    not the username).
    """
    from app.common import passwords
    from app.users import service

    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    check_new_password(user.username, password)
    user.password_hash = passwords.hash_password(password)
    service.invalidate_tokens(user)
    db.session.commit()
    click.echo(f"Password of {user.username!r} reset; every token they held is revoked.")


@click.command("seed-demo", cls=Command)
@click.option("--user", "username", required=True, help="Whose demo data; created if missing.")
@click.option(
    "--password",
    help="For a new user; without it a random one is generated and printed once.",
)
@click.option("--seed", default=2024, show_default=True, help="Random seed of the amounts.")
@with_appcontext
def seed_demo(username: str, password: str | None, seed: int) -> None:
    """Give a user a realistic year of accounts, categories and transactions.

    Four accounts (checking, savings, credit card, cash), a few categories besides the
    defaults, and about 400 transactions up to today: salary, rent, bills, groceries, card
    payments and savings transfers, all through the ledger, so balances are exact. Exits 1 if
    the user already has the demo accounts.
    """
    from app import demo
    from app.users import service

    user = find_user(username)
    generated = None
    if user is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        check_new_user(username, password)
        user = service.register(normalised_username(username), password, None)
    elif password is not None:
        raise click.ClickException(
            f"User {user.username!r} exists: --password only applies to a new user "
            "(use reset-password)."
        )
    if clashes := demo.demo_accounts_of(user.id):
        raise click.ClickException(
            f"User {user.username!r} already has {', '.join(clashes)}: "
            "seed-demo fills a user who has none of the demo accounts."
        )
    items = demo.plan(date.today(), seed)
    with click.progressbar(items, label="Creating transactions") as bar:
        demo.seed(user.id, bar)
    analyse(db.session, "transactions", "accounts")
    db.session.commit()
    click.echo(
        f"Seeded {user.username!r} (id {user.id}): {len(demo.ACCOUNTS)} accounts, "
        f"{len(items)} transactions from {items[0].date} to {items[-1].date}."
    )
    if generated:
        click.echo(f"Password (shown once): {generated}")


@click.command("prune-idempotency-keys", cls=Command)
@with_appcontext
def prune_idempotency_keys() -> None:
    """Delete Idempotency-Keys older than 24 hours (run it daily, from cron say)."""
    from app import idempotency

    count = idempotency.prune()
    db.session.commit()
    click.echo(f"Deleted {count} expired idempotency key(s).")


#: The project's own commands (Flask-Migrate adds `db`).
COMMANDS = (ledger_cli, prune_idempotency_keys, create_user, reset_password, seed_demo)


def register(app: Flask) -> None:
    # Plain click commands (not made with app.cli.command) get no app context from
    # app.test_cli_runner() unless they ask for one: hence @with_appcontext above.
    for command in COMMANDS:
        app.cli.add_command(command)


def refusing(command: click.Command, message: str) -> click.Command:
    """`command` as `flask --help` lists it; run with any arguments, it only says `message`."""

    def refuse(args: tuple[str, ...]) -> None:
        raise click.ClickException(message)

    return click.Command(
        command.name,
        callback=refuse,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        help=command.help,
        short_help=command.short_help,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True},
    )


def app_without_config(error: ConfigError) -> Flask:
    """What wsgi.py gives `flask` when the configuration cannot run (production without
    DATABASE_URL, say): `flask --help` still lists every command, and running one prints the
    configuration error as one line and exits 1.

    FlaskGroup imports wsgi.py to list the app's commands and prints a traceback when that
    fails, hence a stand-in app rather than the error. Outside `flask`'s own group (gunicorn,
    an import, `flask run` or `flask shell`) the error is raised, so nothing serves requests
    or opens a shell on an unusable configuration.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.find_object(ScriptInfo) is None:
        raise error
    if not isinstance(ctx.command, FlaskGroup):
        raise click.ClickException(str(error)) from None
    from flask_migrate.cli import db as migrate_cli

    app = Flask(__name__)
    for command in (*COMMANDS, migrate_cli):
        app.cli.add_command(refusing(command, str(error)))
    return app
