"""Persistence: SQLModel tables, engine/sessions, and data functions that take the session explicitly."""
