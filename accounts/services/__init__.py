"""Writes on accounts. Pages, the API, the admin and commands all come through here."""
