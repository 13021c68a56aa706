"""The project's own settings plus one benchmark route (/bench/db), for DEBUG-off servers.

Used via DJANGO_SETTINGS_MODULE=bench.settings_bench. The database uses the pool exactly as
cryptovault.settings configures it for PostgreSQL.
"""

from cryptovault.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_db"
