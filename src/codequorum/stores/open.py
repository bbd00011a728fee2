"""The store a location names: `stores.sqlite` for a file, `stores.postgresql` for a database."""

from __future__ import annotations

from pathlib import Path

from codequorum.stores.errors import StoreError
from codequorum.stores.protocol import FeedbackStore
from codequorum.vocabulary.store_location import StoreLocation, parse_location


def open_store(location: str | Path | StoreLocation) -> FeedbackStore:
    """The store at `location`; nothing is connected or created before its first use."""
    if not isinstance(location, StoreLocation):
        try:
            location = parse_location(location)
        except ValueError as error:
            raise StoreError(str(error)) from None
    if location.kind == "postgresql":
        from codequorum.stores.postgresql import PostgresStore  # psycopg only when it is wanted

        return PostgresStore(location)
    from codequorum.stores.sqlite import SqliteStore

    return SqliteStore(location)
