"""security app."""
