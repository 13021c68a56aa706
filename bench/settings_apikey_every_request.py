"""bench.settings_bench, but an API key's "last used" is written on every request.

accounts.services.api_keys writes `last_used_at` / `last_used_ip` at most once a minute per
key (`LAST_USED_RESOLUTION`). To measure what that rule saves, this module sets the
resolution to zero in each server process that loads it. The app registry is not ready
while settings load, so the module is patched on the first request (`request_started`),
which then disconnects itself. Used by bench/auth_bench.py, case "API key, write every
request", only.
"""

from datetime import timedelta

from django.core.signals import request_started

from bench.settings_bench import *  # noqa: F403

_DISPATCH_UID = "bench-api-key-last-used-every-request"


def _write_last_used_every_request(**kwargs) -> None:
    from accounts.services import api_keys

    api_keys.LAST_USED_RESOLUTION = timedelta(0)
    request_started.disconnect(dispatch_uid=_DISPATCH_UID)


request_started.connect(_write_last_used_every_request, weak=False, dispatch_uid=_DISPATCH_UID)
