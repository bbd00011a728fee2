"""The real PostgreSQL server of these tests, started once for the session (tests/postgresql.py)."""

from tests.postgresql import postgresql  # noqa: F401  (a fixture)
