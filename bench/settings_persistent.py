"""bench.settings_bench with Django's older persistent connections instead of the pool.

One connection per worker thread, kept for CONN_MAX_AGE seconds (for comparison only).
"""

from bench.settings_bench import *  # noqa: F403
from bench.settings_bench import DATABASES

DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
