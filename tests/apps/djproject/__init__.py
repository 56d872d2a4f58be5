"""A minimal Django project used by the end-to-end tests (no database, DEBUG off)."""
