"""A configured model at run time: its backend, prompt formats and price."""

from __future__ import annotations

from dataclasses import dataclass

from codequorum.config import MemberConfig
from codequorum.core.prompts import build_prompt
from codequorum.core.request import Request
from codequorum.plugins.protocols import Backend, Prompt


@dataclass
class Member:
    config: MemberConfig
    backend: Backend

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def fim(self) -> str | None:
        return self.config.fim if self.backend.supports_fim else None

    def prompt_for(self, request: Request, use_fim: bool | None = None) -> Prompt:
        return build_prompt(request, self.fim, use_fim)

    def max_tokens(self, request: Request) -> int:
        cap = self.config.max_tokens
        return min(request.max_tokens, cap) if cap else request.max_tokens

    def cost_of(self, tokens: int) -> float:
        return tokens * self.config.price_per_1k_tokens / 1000.0
