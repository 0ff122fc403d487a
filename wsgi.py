"""WSGI entry point for gunicorn and `flask`: `app = create_app()`, APP_ENV (default production)."""

from app import create_app

app = create_app()
