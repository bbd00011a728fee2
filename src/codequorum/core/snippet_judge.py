"""One member's model judges other members' snippets: how likely it finds each one right after
the same prompt (its mean token log-probability, teacher-forced), for `confidence`'s `judge`.

A judge must run locally (its backend a `Scorer`) and be asked in fill-in-the-middle form (a
chat prompt's answer is not the snippet itself). With several judges their scores are summed: a
product of experts, each snippet as likely as all of them find it together. The scoring is one
call per judge, recorded in the trace as a call of kind "score".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.generation import SnippetScore
from codequorum.vocabulary.result import MemberCall

Judges = Literal["none", "strongest", "all"]
Signal = Literal["mean", "sum", "mean-with-end"]

SIGNAL_WORDS = {
    "mean": "mean log-probability per token",
    "sum": "total log-probability",
    "mean-with-end": "mean log-probability per token, the end after it counted",
}


@dataclass(frozen=True)
class Verdict:
    best: Candidate
    values: dict[str, float]  # snippet text -> its judged value
    judges: tuple[str, ...]
    margin: float = 0.0
    kept_by_margin: bool = False  # a likelier snippet did not beat the first one by the margin

    def explain(self, signal: Signal) -> str:
        """E.g. "chosen by qwen-large's score -0.12 vs -0.45 (mean log-probability per token)"."""
        mine = self.values[self.best.text]
        others = sorted((v for t, v in self.values.items() if t != self.best.text), reverse=True)
        whose = f"{self.judges[0]}'s score" if len(self.judges) == 1 else \
            f"the summed scores of {', '.join(self.judges)}"
        kept = f", the other not better by more than the margin {self.margin:g}" if self.kept_by_margin else ""
        return f"chosen by {whose} {mine:.3f} vs {others[0]:.3f}{kept} ({SIGNAL_WORDS[signal]})"


def pick_judges(ctx: StrategyContext, who: Judges, asked: Sequence[Member]) -> list[Member]:
    """The members that can judge this request's snippets, strongest first: among those asked,
    whose prompt the KV cache holds, so that judging costs only the snippets' tokens."""
    able = [m for m in asked if m.can_score and m.prompt_for(ctx.request).kind == "fim"]
    able.sort(key=lambda m: m.config.quality, reverse=True)
    return able[:1] if who == "strongest" else able if who == "all" else []


async def judge(ctx: StrategyContext, judges: Sequence[Member], candidates: Sequence[Candidate],
                signal: Signal, margin: float = 0.0) -> Verdict | None:
    """The candidate the judges find likeliest, or None when a judge could not score (a failure,
    a cancel: the trace says which). The first candidate (the ladder's choice) stays unless
    another beats it by more than `margin`."""
    texts = list(dict.fromkeys(c.text for c in candidates))
    values = dict.fromkeys(texts, 0.0)
    for member in judges:
        scores = await _score(ctx, member, texts)
        if scores is None:
            return None
        for text, score in zip(texts, scores, strict=True):
            value = signal_value(score, signal)
            if value is None:
                ctx.trace.note(f"{member.name} could not score an empty snippet")
                return None
            values[text] += value
    likeliest = max(texts, key=lambda t: values[t])
    kept = likeliest != texts[0] and values[likeliest] <= values[texts[0]] + margin
    chosen = texts[0] if kept else likeliest
    best = next(c for c in candidates if c.text == chosen)
    return Verdict(best, values, tuple(m.name for m in judges), margin, kept)


def signal_value(score: SnippetScore, signal: Signal) -> float | None:
    if signal == "sum":
        return score.logprob_sum if score.tokens else None
    if signal == "mean-with-end":
        return score.mean_logprob_with_end
    return score.mean_logprob


async def _score(ctx: StrategyContext, member: Member, texts: list[str]) -> list[SnippetScore] | None:
    call = MemberCall(member=member.name, prompt_kind="score", samples=len(texts))
    ctx.trace.calls.append(call)
    started = time.monotonic()
    try:
        scores = await member.score(member.prompt_for(ctx.request), texts, ctx.cancel)
    except asyncio.CancelledError:
        call.stopped = "cancelled"
        raise
    except Exception as error:  # a failed judge leaves the ladder's choice, never a crash
        call.error = f"{type(error).__name__}: {error}"
        ctx.trace.note(f"{member.name} could not score the snippets: {call.error}")
        return None
    finally:
        call.seconds = time.monotonic() - started
    if scores is None:
        call.stopped = "cancelled"
        ctx.trace.note(f"{member.name}'s scoring was cancelled")
    return scores
