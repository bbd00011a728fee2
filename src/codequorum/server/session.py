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
from codequorum.server.auth import TokenBook
from codequorum.server.cache import PrefixCache
from codequorum.server.client_settings import Refused
from codequorum.server.completion_service import CompletionPolicy, CompletionService
from codequorum.server.engines import EnginePool
from codequorum.server.feedback_store import (
    PREFIX_TAIL_CHARS,
    Event,
    FeedbackPool,
    FeedbackTarget,
    FeedbackWriter,
    SentSuggestion,
    SuggestionLog,
    feedback_target,
    record_for,
)
from codequorum.core.languages import Languages
from codequorum.server.health import Health
from codequorum.server.metrics import Metrics
from codequorum.server.prompt_window import prompt_window
from codequorum.server.settings_source import SettingsSource
from codequorum.server.stats import ServerStats
from codequorum.server.suggestions import Suggestion
from codequorum.server.user_limits import UserLimits, UserLimitSettings
from codequorum.stores.errors import StoreError
from codequorum.vocabulary.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class ServerContext:
    """What every session of one server process shares."""

    source: SettingsSource
    tokens: TokenBook | None = None  # clients must present one at initialize; None = no check
    engines: EnginePool = field(default_factory=EnginePool)
    feedback: FeedbackPool = field(default_factory=FeedbackPool)
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    user_limits: UserLimits = field(init=False)

    def __post_init__(self) -> None:
        self.user_limits = UserLimits(UserLimitSettings.from_settings(self.source.settings().server))


class Session:
    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.stats = ServerStats(observer=context.metrics)
        self.suggestions = SuggestionLog()
        self.initialized = False
        self.user: str | None = None  # the principal whose token the client presented
        self.settings: Settings = context.source.settings()
        self._engine: Engine | None = None
        self._service: CompletionService | None = None
        self._languages: Languages | None = None
        self._feedback: FeedbackWriter | None = None
        self._feedback_target: FeedbackTarget | None = None
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
            self._languages = self.engine.runtime.languages
        return self._languages

    def apply_options(self, options: object, origin: str, trusted: bool = False) -> tuple[Refused, ...]:
        """Lay the allowed client options (all of them when `trusted`) over the configuration
        file; the refused ones are returned. ConfigError keeps the old settings."""
        configured = self.context.source.with_options(options, origin, trusted)
        self.configure(configured.settings)
        return configured.refused

    def configure(self, settings: Settings) -> None:
        self._reopen_feedback(settings)  # first: a store that cannot be opened keeps the old settings
        old_engine, old_service = self._engine, self._service
        engine = self.context.engines.acquire(settings)  # a bad [strategies.*] table raises here
        self.settings = settings
        self._engine = engine
        cache = PrefixCache(settings.server.cache_size)
        policy = CompletionPolicy.from_settings(settings)
        self._service = CompletionService(self._engine, policy, self.stats, cache)
        self._languages = None
        if old_service is not None:
            old_service.stop_all()
        if old_engine is not None:
            self._in_background(self.context.engines.release(old_engine))

    def warm_up(self) -> asyncio.Task[None] | None:
        """Load the completion members' models now; the task doing it, or None when off."""
        if self.settings.server.warm_up:
            return self._in_background(self.completions.warm_up())
        return None

    def remember(self, suggestions: tuple[Suggestion, ...], kind: str, language: str | None,
                 prefix: str, suffix: str = "") -> list[str]:
        """Ids under which the client can report what happened to each suggestion; `prefix` and
        `suffix` are the document before and after the cursor."""
        now, tail = time.time(), prefix[-PREFIX_TAIL_CHARS:]
        config = self.settings.server
        window = prompt_window(prefix + suffix, len(prefix), config.prefix_chars, config.suffix_chars)
        before, after = window.text[:window.cursor], window.text[window.cursor:]
        return [self.suggestions.add(SentSuggestion(s, kind, language, rank, tail, now, before, after))
                for rank, s in enumerate(suggestions)]

    def record_feedback(self, suggestion_id: str, event: Event, accepted_chars: int | None = None) -> bool:
        """Store an event; False when the id is unknown (expired, or from another session)."""
        sent = self.suggestions.get(suggestion_id)
        if sent is None:
            self.stats.unknown_feedback += 1
            return False
        self.stats.feedback_events += 1
        if self._feedback is not None:
            keep_text = self.settings.server.feedback_keep_text
            self._feedback.submit(record_for(suggestion_id, event, sent, keep_text,
                                             accepted_chars=accepted_chars, user=self.user))
        return True

    def flush_feedback(self, timeout: float = 10.0) -> bool:
        """Wait until the events recorded so far are in the store (written in the background
        for a database server); False when `timeout` passed first."""
        return self._feedback.flush(timeout) if self._feedback is not None else True

    async def aclose(self) -> None:
        if self._service is not None:
            self._service.stop_all()
        for task in list(self._background):
            task.cancel()
        if self._engine is not None:
            await self.context.engines.release(self._engine)
            self._engine = None
        if self._feedback is not None:
            writer, self._feedback = self._feedback, None
            await asyncio.to_thread(self.context.feedback.release, writer)  # writes what is pending

    def _reopen_feedback(self, settings: Settings) -> None:
        target = feedback_target(settings.server)
        if self._feedback is not None and self._feedback_target == target:
            return
        try:
            writer = self.context.feedback.acquire(target) if target is not None else None
        except StoreError as error:  # e.g. psycopg is not installed
            raise ConfigError(f"{settings.source}: [server] feedback_db: {error}") from None
        if self._feedback is not None:
            self.context.feedback.release(self._feedback)
        self._feedback, self._feedback_target = writer, target

    def _in_background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())
