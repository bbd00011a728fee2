"""`rank`: LLM-Blender's ranking step (Jiang et al. 2023): every member's candidates go
through the checks and the scorer ensemble (the listwise ranker, when its weights ship),
best first.

It is `best-of` with two differences: it never generates tests (`generated_tests` is taken
and ignored), and `top_k` (default 3) bounds the alternatives returned, the candidates that a
later fusion step or the editor would see.

Options: `samples` and `temperature` per member, as for best-of; `top_k`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import EVERY_MEMBER_FAILED, ask_every_member, ranked_from
from codequorum.vocabulary.result import Result


class RankOptions(StrategyOptions):
    samples: int = 1  # per member
    temperature: float | None = None  # None: the engine's
    top_k: int = 3
    generated_tests: bool | str = False  # taken for best-of's sake, and ignored

    @model_validator(mode="after")
    def _in_range(self) -> RankOptions:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, not {self.top_k}")
        return self


class RankStrategy:
    name: ClassVar[str] = "rank"
    Options: ClassVar[type[RankOptions]] = RankOptions

    def __init__(self, options: RankOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, RankOptions, options)
        self.generated_tests = False  # whatever the options say

    async def run(self, ctx: StrategyContext) -> Result:
        candidates = await ask_every_member(ctx, self.options.samples, self.options.temperature)
        if not candidates:
            return ctx.result([], EVERY_MEMBER_FAILED)
        ranked = ctx.rank(candidates)
        scorers = sorted(k.removeprefix("scorer.") for k in ranked[0].scores if k.startswith("scorer."))
        ctx.trace.note(f"ranked by {', '.join(scorers)} (rule: {ctx.ranking.rule})")
        kept = ranked[: self.options.top_k]
        return ctx.result(kept, f"{ranked_from(candidates)}; returned the top {len(kept)}")
