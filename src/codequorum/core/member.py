"""A configured model at run time: its backend, prompt formats, price and failure guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from codequorum.config import MemberConfig
from codequorum.core.memo import GenerationMemo
from codequorum.core.prompts import FimTemplate, build_prompt, fim_template
from codequorum.core.protocols import Backend, Scorer
from codequorum.core.resilience import MemberGuard
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt, SnippetScore
from codequorum.vocabulary.request import Request


@dataclass
class Member:
    config: MemberConfig
    backend: Backend
    guard: MemberGuard = field(init=False)  # retries and circuit breaker, kept across requests
    memo: GenerationMemo = field(default_factory=GenerationMemo)

    def __post_init__(self) -> None:
        self.guard = MemberGuard.for_member(self.config)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def fim(self) -> str | None:
        return self.config.fim if self.backend.supports_fim else None

    @cached_property
    def fim_template(self) -> FimTemplate | None:
        """The format `fim` names, as the settings define it; None for a chat-only member."""
        if self.fim is None:
            return None
        config = self.config.fim_template
        return FimTemplate.from_config(config) if config is not None else fim_template(self.fim)

    @property
    def can_score(self) -> bool:
        """Whether its backend can score given snippets (`Scorer`)."""
        return isinstance(self.backend, Scorer)

    async def score(self, prompt: Prompt, snippets: Sequence[str],
                    cancel: CancelToken) -> list[SnippetScore] | None:
        """Its model's score of each snippet after the prompt; None when cancelled or when
        its backend cannot score (`can_score`)."""
        if not isinstance(self.backend, Scorer):
            return None
        return await self.backend.score(prompt, snippets, cancel)

    def prompt_for(self, request: Request, use_fim: bool | None = None) -> Prompt:
        return build_prompt(request, self.fim_template, use_fim)

    def max_tokens(self, request: Request) -> int:
        cap = self.config.max_tokens
        return min(request.max_tokens, cap) if cap else request.max_tokens

    def cost_of(self, tokens: int) -> float:
        return tokens * self.config.price_per_1k_tokens / 1000.0

    async def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: CancelToken,
        seconds_left: Callable[[], float | None] = lambda: None,
        on_retry: Callable[[str], None] = lambda note: None,
    ) -> list[Generation]:
        """The backend's samples, through the member's retry policy and circuit breaker; a
        greedy call answered before comes from the memo."""
        remembered = self.memo.lookup(prompt, params)
        if remembered is not None:
            return remembered
        generations = await self.guard.call(
            lambda: self.backend.generate(prompt, params, cancel), seconds_left, on_retry
        )
        self.memo.remember(prompt, params, generations)
        return generations
