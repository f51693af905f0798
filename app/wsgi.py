"""WSGI entry point for gunicorn: `gunicorn 'app.wsgi:app'` (see docs/deploy.md)."""

from app import create_app

app = create_app()
