"""Copy one store into another (SQLite to PostgreSQL, or back): every event not there yet, and
the router's memory when the target lacks that version of it. Running it again copies nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from codequorum.stores.errors import StoreError
from codequorum.stores.protocol import FeedbackStore

BATCH = 1000


@dataclass(frozen=True)
class Migration:
    events_read: int
    events_added: int
    memory_entries: int | None  # copied; None when the memory was not copied
    memory_version: str | None  # the source's memory version, None when it has none


def migrate(source: FeedbackStore, target: FeedbackStore,
            progress: Callable[[int], None] = lambda done: None) -> Migration:
    if str(source.location) == str(target.location) and source.location.kind == target.location.kind:
        raise StoreError(f"{source.location} is both the source and the target: nothing to migrate")
    read = added = 0
    records = source.records()
    while batch := list(islice(records, BATCH)):
        added += target.add(batch)
        read += len(batch)
        progress(read)
    version = source.memory_version()
    copied = None
    if version is not None and target.memory_version() != version:
        entries = source.load_memory() or []
        target.save_memory(entries, version)
        copied = len(entries)
    return Migration(read, added, copied, version)
