"""CryptoVault project package: settings, URLs, ASGI/WSGI entry points and Celery app."""

from cryptovault.celery import app as celery_app

__all__ = ["celery_app"]
