"""analytics app."""
