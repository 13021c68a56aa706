"""exchanges app."""
