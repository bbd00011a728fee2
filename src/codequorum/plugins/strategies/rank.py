"""`rank`: LLM-Blender's ranking step (Jiang et al. 2023): every member's candidates go
through the checks and the scorer ensemble (the listwise ranker, when its weights ship),
best first.

It is `best-of` with two differences, so it reuses best-of's code: it never generates tests
(`generated_tests` is ignored), and `top_k` (default 3) bounds the alternatives returned,
the candidates that a later fusion step or the editor would see.

Options: `samples` and `temperature` per member, as for best-of; `top_k`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from codequorum.core.context import StrategyContext
from codequorum.plugins.strategies.best_of import BestOfStrategy
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.result import Result


class RankStrategy(BestOfStrategy):
    name: ClassVar[str] = "rank"

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__({**options, "generated_tests": False})
        self.top_k = int(options.get("top_k", 3))
        if self.top_k < 1:
            raise ConfigError(f"[strategies.rank] top_k must be at least 1, not {self.top_k}")

    async def run(self, ctx: StrategyContext) -> Result:
        ranked = await super().run(ctx)
        if not ranked.candidates:
            return ranked
        scores = ranked.candidates[0].scores
        scorers = sorted(k.removeprefix("scorer.") for k in scores if k.startswith("scorer."))
        ctx.trace.note(f"ranked by {', '.join(scorers)} (rule: {ctx.ranking.rule})")
        kept = ranked.candidates[: self.top_k]
        reason = f"{ctx.trace.stop_reason}; returned the top {len(kept)}"
        return ctx.result(kept, reason)
