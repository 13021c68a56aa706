"""backups app."""
