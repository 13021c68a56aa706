"""bench.settings_bench without Django's psycopg pool: a new connection per request.

What DATABASE_POOL=false would do if cryptovault.settings read such a switch.
"""

from bench.settings_bench import *  # noqa: F403
from bench.settings_bench import DATABASES

DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
