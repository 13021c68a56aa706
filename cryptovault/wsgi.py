"""WSGI entry point: gunicorn serves HTTP in production (see docs/operations.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptovault.settings")
application = get_wsgi_application()
