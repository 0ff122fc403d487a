"""The application factory."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from werkzeug.middleware.proxy_fix import ProxyFix

from app.common.db import drop_closed_connection, in_transactions_again
from app.common.http import register_http_rules
from app.common.json import JSONProvider
from app.common.openapi import DocsPlugin
from app.common.schemas import ErrorSchema
from app.observability import register_observability
from config import Config, get_config


class App(Flask):
    """Flask, asking once per function whether it is a coroutine function.

    Flask asks again for every hook and view it runs (`ensure_sync`): ~20 times a request, ~3 %
    of a delete's Python in a gunicorn worker's profile, through inspect's unwrapping. A
    function's answer never changes; a bound method's is its function's. At most
    ENSURE_SYNC_CACHE functions are remembered, so a caller that made new ones per request
    could not grow it without bound."""

    ENSURE_SYNC_CACHE = 4096

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.coroutine_functions: dict[Callable, bool] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        key = getattr(func, "__func__", func)
        try:
            is_coroutine = self.coroutine_functions[key]
        except KeyError:
            is_coroutine = inspect.iscoroutinefunction(func)
            if len(self.coroutine_functions) < self.ENSURE_SYNC_CACHE:
                self.coroutine_functions[key] = is_coroutine
        except TypeError:  # unhashable: asked every time, as Flask does
            is_coroutine = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_coroutine else func


def create_app(config: Config | str | None = None) -> Flask:
    """Build the app; `config` is a Config instance, an APP_ENV name, or None for APP_ENV."""
    config = config if isinstance(config, Config) else get_config(config)
    config.check()
    app = App(__name__, instance_relative_config=True)
    app.json = JSONProvider(app)
    app.session_interface = NoCookieSession()
    app.config.from_object(config)
    register_observability(app)  # first: its request hooks wrap every other one
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    register_http_rules(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    return app


class NoCookieSession(SessionInterface):
    """No cookie session: a bearer token says who calls, and nothing here reads `flask.session`.
    Flask's default would open one on every request all the same, building its signing
    serializer each time (2 % of a create's Python, profiled in a gunicorn worker);
    Flask stands a NullSession in for it, and saves nothing."""

    def open_session(self, app: Flask, request) -> None:
        return None


def register_extensions(app: Flask) -> None:
    from app.extensions import api, db, jwt, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    jwt.init_app(app)
    limiter.init_app(app)
    if not (app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")):
        # Only routes are limited (logins, registration, password checks), and their
        # decorators check as they run: with no default or application-wide limit, the check
        # Flask-Limiter adds before every request finds nothing to count, at a cost to every
        # request. Its response-header and cleanup hooks stay.
        hooks = app.before_request_funcs.get(None, [])
        if limiter._check_request_limit in hooks:  # not there when limits are switched off
            hooks.remove(limiter._check_request_limit)
    api.ERROR_SCHEMA = ErrorSchema  # error answers document the one error shape
    # A fresh plugin per app: it remembers the operationIds given, to refuse a duplicate.
    api.init_app(app, spec_kwargs={"extra_plugins": [DocsPlugin()]})
    if app.config["CORS_ORIGINS"]:
        from flask_cors import CORS

        CORS(
            app,
            origins=app.config["CORS_ORIGINS"],
            expose_headers=["X-Total-Count", "X-Request-ID"],
        )


def register_blueprints(app: Flask) -> None:
    from app.accounts.routes import blp as accounts
    from app.auth.routes import blp as auth
    from app.backup.routes import blp as backup
    from app.budgets.routes import blp as budgets
    from app.categories.routes import blp as categories
    from app.extensions import api
    from app.health.routes import blp as health
    from app.imports.routes import blp as imports
    from app.meta.routes import blp as meta
    from app.rates.routes import blp as rates
    from app.recurring.routes import blp as recurring
    from app.reports.routes import blp as reports
    from app.rules.routes import blp as rules
    from app.transactions.routes import blp as transactions
    from app.users.routes import blp as users

    blueprints = (
        auth,
        users,
        accounts,
        categories,
        transactions,
        rates,
        recurring,
        budgets,
        reports,
        imports,
        rules,
        backup,
        health,
        meta,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)

    # Swagger UI's scripts come from the swagger-ui-bundle package, ReDoc's from app/static:
    # the docs work offline, with no CDN.
    @app.get("/docs-assets/swagger-ui/<path:filename>")
    def swagger_ui_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    from app.docs import redoc_script_view

    app.add_url_rule("/docs-assets/redoc/redoc.standalone.js", "redoc_script", redoc_script_view)


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


event.listen(Pool, "checkout", drop_closed_connection)
event.listen(Pool, "checkin", in_transactions_again)


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, let readers and a writer overlap, wait instead of failing."""
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
