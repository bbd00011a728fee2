"""Engines shared by the sessions of one server process.

Loaded models are the expensive part of an engine (gigabytes), so sessions whose settings
differ only in `[server]` share one; an engine is closed when its last session lets go.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from codequorum.config import Settings
from codequorum.core.engine import Engine

EngineFactory = Callable[[Settings], Engine]


@dataclass
class _Shared:
    engine: Engine
    users: int


class EnginePool:
    def __init__(self, factory: EngineFactory = Engine) -> None:
        self._factory = factory
        self._engines: dict[str, _Shared] = {}

    def acquire(self, settings: Settings) -> Engine:
        key = engine_key(settings)
        shared = self._engines.get(key)
        if shared is None:
            shared = self._engines[key] = _Shared(self._factory(settings), 0)
        shared.users += 1
        return shared.engine

    async def release(self, engine: Engine) -> None:
        for key, shared in list(self._engines.items()):
            if shared.engine is engine:
                shared.users -= 1
                if shared.users == 0:
                    del self._engines[key]
                    await engine.aclose()
                return

    async def aclose(self) -> None:
        engines, self._engines = self._engines, {}
        for shared in engines.values():
            await shared.engine.aclose()


def engine_key(settings: Settings) -> str:
    """Everything an engine depends on: the settings without the server's own section."""
    return json.dumps(settings.model_dump(mode="json", exclude={"server"}), sort_keys=True)
