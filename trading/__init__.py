"""trading app."""
