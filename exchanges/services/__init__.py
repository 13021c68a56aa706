"""Writes to exchange connections. Pages, the API, the admin, commands and tasks all come through here.

`keys` stores, tests and replaces keys (the second factor and the test's rules); `connections`
edits and revokes; `health` re-tests stored keys and moves the status; `state` holds what they
share. A call to the exchange never runs inside a transaction (a slow exchange must not hold a row
lock); its result is applied afterwards under a lock on the row, so a health check and a revoke
arriving together cannot resurrect a revoked connection.
"""
