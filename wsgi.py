"""WSGI entry point for gunicorn and `flask`: `app = create_app()`, APP_ENV (default production).

An unusable configuration stops gunicorn with the error; `flask` still lists its commands and
prints the error in one line when one is run (app.cli.app_without_config).
"""

from app import create_app
from app.cli import app_without_config
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    app = app_without_config(error)
