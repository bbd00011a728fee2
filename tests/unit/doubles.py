"""Test doubles for unit tests of engine logic (the e2e tests use the real models)."""

from __future__ import annotations

import asyncio
from typing import Any

from codequorum.config import Settings, settings_from_dict
from codequorum.core.registry import Registry
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt


class ScriptedBackend:
    """Replies from `options.replies` in turn (with `options.logprob` as their mean
    log-probability); `options.fail` raises, `options.delay` sleeps (stopping early, with no
    reply, once cancelled)."""

    prompts: list[Prompt] = []
    params: list[GenerationParams] = []

    def __init__(self, member: Any, runtime: Any) -> None:
        self.options = member.options
        self.fim = member.fim
        self._turn = 0

    @property
    def supports_fim(self) -> bool:
        return self.fim is not None

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]:
        ScriptedBackend.prompts.append(prompt)
        ScriptedBackend.params.append(params)
        if not await _sleep_unless_cancelled(self.options.get("delay", 0.0), cancel):
            return []
        if self.options.get("fail"):
            raise RuntimeError(self.options["fail"])
        replies = self.options.get("replies", ["pass"])
        out = []
        for _ in range(params.n):
            out.append(Generation(text=replies[self._turn % len(replies)], tokens=3,
                                  prompt_tokens=5, seconds=0.01,
                                  mean_logprob=self.options.get("logprob", -0.5)))
            self._turn += 1
        return out

    async def aclose(self) -> None:
        return None


async def _sleep_unless_cancelled(seconds: float, cancel: CancelToken) -> bool:
    """Like a backend between tokens: stop early once the token is set. False if cancelled."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        if cancel.cancelled:
            return False
        await asyncio.sleep(min(left, 0.01))
    return not cancel.cancelled


def scripted_settings(members: dict[str, dict[str, Any]], **extra: Any) -> Settings:
    data = {"include_default_members": False,
            "members": {name: {"backend": "scripted", **m} for name, m in members.items()}}
    data.update(extra)
    return settings_from_dict(data, source="test")


def scripted_registry(disabled: frozenset[str] = frozenset({"checks.syntax"})) -> Registry:
    registry = Registry(disabled=disabled)
    registry.register("backends", "scripted", ScriptedBackend)
    return registry
