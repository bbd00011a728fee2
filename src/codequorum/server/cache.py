"""Completions already computed, answered again without a model call.

Besides exact repeats it serves *typed-through* requests: the user typed characters that
match the start of a cached suggestion, so the rest of that suggestion is still the answer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from codequorum.server.suggestions import Suggestion

MAX_TYPED_CHARS = 256  # further than this from the cached cursor, recompute


@dataclass(frozen=True)
class CacheKey:
    """The whole document before and after the cursor.

    The completion's scope is not part of it: it follows from the text, and typing through a
    multi-line suggestion turns the cursor's line into one to finish, yet the rest of the
    suggestion is still what the user is typing.
    """

    prefix: str
    suffix: str


@dataclass(frozen=True)
class CacheHit:
    suggestions: tuple[Suggestion, ...]
    typed: str  # characters typed since the cached request ("" for an exact repeat)
    key: CacheKey  # the entry that answered


class PrefixCache:
    """A bounded LRU of completions keyed by the text around the cursor."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, tuple[Suggestion, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, key: CacheKey, suggestions: tuple[Suggestion, ...]) -> None:
        if self.size == 0 or not suggestions:
            return
        self._entries[key] = suggestions
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def lookup(self, key: CacheKey) -> CacheHit | None:
        """An exact or typed-through answer for `key`, most recent entry first."""
        for cached_key in reversed(self._entries):
            typed = _typed_since(cached_key, key)
            if typed is None:
                continue
            rest = tuple(s.without_typed(typed) for s in self._entries[cached_key]
                         if s.text.startswith(typed) and len(s.text) > len(typed))
            if rest:
                self._entries.move_to_end(cached_key)
                return CacheHit(rest, typed, cached_key)
        return None

    def clear(self) -> None:
        self._entries.clear()


def _typed_since(cached: CacheKey, key: CacheKey) -> str | None:
    """What was typed at the cached cursor to get from `cached` to `key`, if that is all."""
    typed_chars = len(key.prefix) - len(cached.prefix)
    if not 0 <= typed_chars <= MAX_TYPED_CHARS:
        return None
    if cached.suffix != key.suffix or not key.prefix.startswith(cached.prefix):
        return None
    return key.prefix[len(cached.prefix):]
