"""Where the router's memory is read and written: a JSONL file, or a store (`sqlite:///…`,
`postgresql://…`) that the replicas of a team server share.

Readers keep what they loaded: a file is read again when its modification time changes, a
store when its memory version changes, which is looked up at most every `RECHECK_S` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codequorum.routing.memory import RouterMemory
from codequorum.stores.errors import StoreError
from codequorum.stores.open import open_store
from codequorum.stores.protocol import FeedbackStore
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.store_location import is_location, without_password

RECHECK_S = 5.0
log = logging.getLogger(__name__)


@dataclass
class _Loaded:
    stamp: object  # a file's modification time, a store's memory version
    memory: RouterMemory
    checked_at: float


_loaded: dict[str, _Loaded] = {}
_stores: dict[str, FeedbackStore] = {}  # kept open: a route request must not connect anew
_lock = threading.Lock()


def describe(location: str | Path) -> str:
    """The location as given, for messages (a PostgreSQL URL without its password)."""
    return without_password(str(location))


def save_memory(memory: RouterMemory, location: str | Path) -> None:
    text = str(location)
    if not is_location(text):
        memory.save(Path(text).expanduser())
        return
    store = open_store(text)
    try:
        store.save_memory(memory.entries, version=uuid.uuid4().hex)
    finally:
        store.close()


def load_memory(location: str | Path) -> RouterMemory:
    """The memory at `location`, loaded again only when it has changed; CodequorumError says
    how to build one when there is none."""
    text = str(location)
    with _lock:
        return _load_from_store(text) if is_location(text) else _load_file(Path(text).expanduser())


def _load_file(path: Path) -> RouterMemory:
    try:
        stamp: object = path.stat().st_mtime
    except OSError:
        return RouterMemory.load(path)  # raises the error that says how to build it
    return _cached(str(path), stamp, lambda: RouterMemory.load(path))


def _load_from_store(text: str) -> RouterMemory:
    cached = _loaded.get(text)
    if cached is not None and time.monotonic() - cached.checked_at < RECHECK_S:
        return cached.memory
    store = _stores.get(text)
    if store is None:
        store = _stores[text] = open_store(text)
    try:
        version = store.memory_version()
    except StoreError as error:
        if cached is None:
            raise
        log.warning("%s; routing with the memory loaded before", error)
        cached.checked_at = time.monotonic()
        return cached.memory
    if version is None:
        raise CodequorumError(f"no router memory in {describe(text)}: build one with "
                              f"`codequorum router build --out {describe(text)}`")
    return _cached(text, version, lambda: RouterMemory(store.load_memory() or []))


def _cached(key: str, stamp: object, load: Callable[[], RouterMemory]) -> RouterMemory:
    cached = _loaded.get(key)
    if cached is None or cached.stamp != stamp:
        cached = _loaded[key] = _Loaded(stamp, load(), time.monotonic())
    cached.checked_at = time.monotonic()
    return cached.memory
