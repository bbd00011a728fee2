"""The store protocol: feedback events and the router's memory, whatever holds them.

Two implementations, one module each: `stores.sqlite` (a file, the default) and
`stores.postgresql` (a database that several servers share). `stores.open.open_store` picks one
by the location's URL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Protocol

from codequorum.routing.entry import Entry
from codequorum.stores.records import Event, FeedbackRecord
from codequorum.vocabulary.store_location import StoreLocation


class FeedbackStore(Protocol):
    location: StoreLocation

    def add(self, records: Sequence[FeedbackRecord]) -> int:
        """Store the records whose event id is not stored yet; how many were new."""
        ...

    def records(self, events: Collection[Event] | None = None) -> Iterator[FeedbackRecord]:
        """The stored events (only those of `events`, when given), oldest first."""
        ...

    def purge(self, before: float) -> int:
        """Delete the events older than `before` (Unix time); how many were deleted."""
        ...

    def save_memory(self, entries: Sequence[Entry], version: str) -> None:
        """Replace the router's memory with `entries` in one transaction, under `version`."""
        ...

    def load_memory(self) -> list[Entry] | None:
        """The router's memory, None when none was ever saved here."""
        ...

    def memory_version(self) -> str | None:
        """The version of the saved memory (cheap: readers poll it), None when there is none."""
        ...

    def close(self) -> None: ...
