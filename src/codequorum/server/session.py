"""Everything one connected client works with: settings, engine, completion service, feedback.

A session exists per connection; the process-wide parts (the configuration file, the
engines and their loaded models, the token) live in `ServerContext`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.server.cache import PrefixCache
from codequorum.server.client_settings import Refused
from codequorum.server.completion_service import CompletionPolicy, CompletionService
from codequorum.server.engines import EnginePool
from codequorum.server.feedback_store import (
    PREFIX_TAIL_CHARS,
    Event,
    FeedbackStore,
    SentSuggestion,
    SuggestionLog,
    default_feedback_path,
)
from codequorum.server.languages import Languages
from codequorum.server.settings_source import SettingsSource
from codequorum.server.stats import ServerStats
from codequorum.server.suggestions import Suggestion

log = logging.getLogger(__name__)


@dataclass
class ServerContext:
    """What every session of one server process shares."""

    source: SettingsSource
    token: str | None = None  # clients must present it at initialize; None = no check
    engines: EnginePool = field(default_factory=EnginePool)


class Session:
    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.stats = ServerStats()
        self.suggestions = SuggestionLog()
        self.initialized = False
        self.settings: Settings = context.source.settings()
        self._engine: Engine | None = None
        self._service: CompletionService | None = None
        self._languages: Languages | None = None
        self._feedback: FeedbackStore | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.configure(self.settings)
        assert self._engine is not None
        return self._engine

    @property
    def completions(self) -> CompletionService:
        if self._service is None:
            self.configure(self.settings)
        assert self._service is not None
        return self._service

    @property
    def languages(self) -> Languages:
        if self._languages is None:
            self._languages = Languages(self.engine.runtime.registry)
        return self._languages

    def apply_options(self, options: object, origin: str, trusted: bool = False) -> tuple[Refused, ...]:
        """Lay the allowed client options (all of them when `trusted`) over the configuration
        file; the refused ones are returned. ConfigError keeps the old settings."""
        configured = self.context.source.with_options(options, origin, trusted)
        self.configure(configured.settings)
        return configured.refused

    def configure(self, settings: Settings) -> None:
        old_engine, old_service = self._engine, self._service
        self.settings = settings
        self._engine = self.context.engines.acquire(settings)
        cache = PrefixCache(settings.server.cache_size)
        policy = CompletionPolicy.from_settings(settings)
        self._service = CompletionService(self._engine, policy, self.stats, cache)
        self._languages = None
        self._reopen_feedback()
        if old_service is not None:
            old_service.stop_all()
        if old_engine is not None:
            self._in_background(self.context.engines.release(old_engine))

    def warm_up(self) -> None:
        if self.settings.server.warm_up:
            self._in_background(self.completions.warm_up())

    def remember(self, suggestions: tuple[Suggestion, ...], kind: str, language: str | None,
                 prefix: str) -> list[str]:
        """Ids under which the client can report what happened to each suggestion."""
        now, tail = time.time(), prefix[-PREFIX_TAIL_CHARS:]
        return [self.suggestions.add(SentSuggestion(s, kind, language, rank, tail, now))
                for rank, s in enumerate(suggestions)]

    def record_feedback(self, suggestion_id: str, event: Event) -> bool:
        """Store an event; False when the id is unknown (expired, or from another session)."""
        sent = self.suggestions.get(suggestion_id)
        if sent is None:
            self.stats.unknown_feedback += 1
            return False
        self.stats.feedback_events += 1
        if self._feedback is not None:
            self._feedback.record(suggestion_id, event, sent)
        return True

    async def aclose(self) -> None:
        if self._service is not None:
            self._service.stop_all()
        for task in list(self._background):
            task.cancel()
        if self._engine is not None:
            await self.context.engines.release(self._engine)
            self._engine = None
        if self._feedback is not None:
            self._feedback.close()

    def _reopen_feedback(self) -> None:
        config = self.settings.server
        path = (config.feedback_db or default_feedback_path()) if config.feedback else None
        if self._feedback is not None and self._feedback.path == path:
            return
        if self._feedback is not None:
            self._feedback.close()
        self._feedback = FeedbackStore(path) if path is not None else None

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())
