"""Shared resources of one running engine: settings, plugins, languages, model files, CPU slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from codequorum.config import Settings
from codequorum.core.languages import Languages
from codequorum.core.registry import Registry
from codequorum.core.scheduler import ComputeScheduler
from codequorum.models.store import ModelStore


@dataclass
class Runtime:
    settings: Settings
    registry: Registry
    models: ModelStore
    scheduler: ComputeScheduler = field(default_factory=ComputeScheduler)

    @classmethod
    def create(cls, settings: Settings, registry: Registry | None = None) -> Runtime:
        return cls(
            settings=settings,
            registry=registry or Registry(disabled=frozenset(settings.plugins.disabled)),
            models=ModelStore(settings.models.cache_dir),
            scheduler=ComputeScheduler(settings.scheduler.local_slots),
        )

    @cached_property
    def languages(self) -> Languages:
        """The language plugins, loaded once: every part resolves a language through them."""
        return Languages(self.registry)
