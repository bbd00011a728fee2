"""`confidence`: members one at a time; stop at the first snippet the checks accept and its member
was confident of.

For requests without tests to vouch for an answer, an inline completion above all. Members are
asked in `order`: `cheapest-verified` (the default): cheapest first where the request shows
examples to run (the docstring of the function around the cursor), a cheaper member's snippet
taken only when it ran them and passed every one, and strongest first where there are none;
`strongest` first always; or `cheapest` first (a FrugalGPT-style cascade, Chen et al. 2023). A
member's snippet is taken when it is not empty, passes the checks (syntax in context; the
examples in the docstring of the function around the cursor, where that function goes on past
it) and its mean token log-probability reaches `min_logprob`; otherwise the next member is
asked. Once the deadline has passed, no further member is asked if a snippet that passes the
checks exists; while none does, the next member still is, and may run to the hard cap (a late
answer beats none, and one known to be wrong).
The answer is the snippet taken, or, when none was, usable snippets before broken ones, those
that pass their examples before those that fail them, the strongest member's first.

Measured on the FIM benchmark (docs/results.md): the strong member's snippet is right far more
often than the cheap member's, and the cheap member's own log-probability does not tell its right
snippets from its wrong ones well enough to skip the strong one; the function's examples do.
What the cheap member adds after the strong one is a second snippet where the strong one is
empty, breaks the syntax or fails the function's own examples. Hence the defaults.

With `judge` ("strongest" or "all"), every member is asked (the deadline rule above still
holds) and a judge then scores the snippets taken (else the usable ones): the strongest member
asked whose local model can score them, or all such members with their scores summed (a
product of experts), `core/snippet_judge.py`. The likeliest snippet by `judge_by` wins, unless the
ladder's choice (its first snippet taken) is within `judge_margin` of it; where no member can
judge, or judging fails, the ladder's choice stands. The trace says which signal decided.

Options: `order` ("cheapest-verified", "strongest" or "cheapest", default "cheapest-verified"),
`min_logprob` (default: none, any snippet that passes the checks), `judge` ("none", "strongest" or "all", default "none"),
`judge_by` ("mean", "sum" or "mean-with-end", default "mean"), `judge_margin` (default 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.core.snippet_judge import Judges, Signal, judge, pick_judges
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import by_price, passes, verifiable, verified
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result


class ConfidenceOptions(StrategyOptions):
    order: Literal["strongest", "cheapest", "cheapest-verified"] = "cheapest-verified"
    min_logprob: float | None = None
    judge: Judges = "none"
    judge_by: Signal = "mean"
    judge_margin: float = 0.0

    @model_validator(mode="after")
    def _in_range(self) -> ConfidenceOptions:
        if self.min_logprob is not None and self.min_logprob > 0:
            raise ValueError(f"min_logprob is a log-probability (<= 0), not {self.min_logprob}")
        if self.judge_margin < 0:
            raise ValueError(f"judge_margin is how much better another snippet must be (>= 0), not {self.judge_margin}")
        return self


class ConfidenceStrategy:
    name: ClassVar[str] = "confidence"
    Options: ClassVar[type[ConfidenceOptions]] = ConfidenceOptions

    def __init__(self, options: ConfidenceOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, ConfidenceOptions, options)
        self.order = self.options.order
        self.min_logprob = self.options.min_logprob

    async def run(self, ctx: StrategyContext) -> Result:
        ladder, verify = self._ladder(ctx)
        bar = "" if self.min_logprob is None else f" at mean log-probability >= {self.min_logprob:g}"
        judged = "" if self.options.judge == "none" else \
            f"; then judge ({self.options.judge}) by {self.options.judge_by}"
        order = ("cheapest first (the function's examples verify a cheaper snippet)" if verify
                 else f"{'strongest' if self.order == 'cheapest-verified' else self.order} first")
        ctx.trace.note(f"{order}: {', '.join(m.name for m in ladder)}; accept a snippet "
                       f"that passes the checks{bar}{judged}")
        produced: list[Candidate] = []
        asked: list[Member] = []
        judging = self.options.judge != "none"
        for member in ladder:
            if any(_sound(c) for c in produced) and _overdue(ctx):
                ctx.trace.note(f"not asking {member.name}: the deadline has passed")
                break
            if produced and not any(_sound(c) for c in produced):
                ctx.reject_answers()
            candidates = await ctx.sample(member)
            asked.append(member)
            if candidates:
                await ctx.check(candidates)
            produced += candidates
            last_rung = member is ladder[-1]
            taken = [c for c in candidates if self._accepted(c) and (last_rung or not verify or verified(c))]
            if taken and judging:
                ctx.trace.note(f"{member.name}: {self._why(taken[0])}, kept for the judge")
                continue
            if taken:
                best = max(taken, key=lambda c: c.mean_logprob or 0.0)
                ctx.trace.note(f"{member.name}: {self._why(best)}, taken")
                return ctx.result([best, *self._fallbacks([c for c in produced if c is not best], ladder)],
                                  f"taken from {member.name}: passes the checks{bar}")
            ctx.trace.note(f"{member.name}: {self._doubt(candidates, verify)}, next member")
        if judging:
            judged = await self._judged(ctx, produced, ladder, asked)
            if judged is not None:
                return judged
        if not any(c.text.strip() for c in produced):
            return ctx.result([], "no member produced a snippet")
        return ctx.result(self._fallbacks(produced, ladder), "no snippet taken: usable ones first, strongest first")

    async def _judged(self, ctx: StrategyContext, produced: list[Candidate], ladder: list[Member],
                      asked: list[Member]) -> Result | None:
        """The judge's choice among the snippets taken (else the usable ones); the ladder's own
        choice where there is nothing to judge or no judge; None when nothing was taken."""
        contenders = [c for c in produced if self._accepted(c)] or [c for c in produced if _usable(c)]
        if not contenders:
            return None
        rest = [c for c in produced if c not in contenders]
        if len({c.text for c in contenders}) == 1:
            ctx.trace.note(f"one usable snippet ({', '.join(c.member for c in contenders)}): nothing to judge")
            return ctx.result([*self._fallbacks(contenders, ladder), *self._fallbacks(rest, ladder)],
                              f"the only usable snippet, from {contenders[0].member}")
        judges = pick_judges(ctx, self.options.judge, asked)
        verdict = await judge(ctx, judges, contenders, self.options.judge_by,
                              self.options.judge_margin) if judges else None
        if verdict is None:
            why = "" if judges else "no member asked can score snippets (a local llama.cpp member asked in FIM form); "
            ctx.trace.note(f"{why}the ladder's choice stands")
            first = next((c for c in produced if self._accepted(c)), None)
            if first is None:
                return None
            return ctx.result([first, *self._fallbacks([c for c in produced if c is not first], ladder)],
                              f"taken from {first.member}: the ladder's choice, unjudged")
        explained = verdict.explain(self.options.judge_by)
        ctx.trace.note(f"{verdict.best.member}'s snippet {explained}")
        ranked = [verdict.best, *sorted((c for c in contenders if c is not verdict.best),
                                        key=lambda c: -verdict.values[c.text])]
        return ctx.result([*ranked, *self._fallbacks(rest, ladder)], f"{verdict.best.member}'s snippet {explained}")

    def _ladder(self, ctx: StrategyContext) -> tuple[list[Member], bool]:
        """The members in the order asked, and whether a cheaper member's snippet must be
        verified by the request's examples to be taken."""
        if self.order == "cheapest":
            return by_price(ctx.members), False
        if self.order == "cheapest-verified" and len(ctx.members) > 1 and verifiable(ctx.request):
            return by_price(ctx.members), True
        return sorted(ctx.members, key=lambda m: m.config.quality, reverse=True), False

    def _accepted(self, candidate: Candidate) -> bool:
        if not _sound(candidate):
            return False
        if self.min_logprob is None:
            return True
        return candidate.mean_logprob is not None and candidate.mean_logprob >= self.min_logprob

    def _fallbacks(self, candidates: list[Candidate], ladder: list[Member]) -> list[Candidate]:
        """Usable snippets before broken or empty ones, those passing their examples before those
        failing them; within each, the strongest member's first."""
        quality = {member.name: member.config.quality for member in ladder}
        return sorted(candidates, key=lambda c: (not _usable(c), not _sound(c), -quality.get(c.member, 0.0)))

    def _why(self, candidate: Candidate) -> str:
        tests = candidate.evidence.tests
        checks = "passes the checks" if tests is None else f"passes the checks and its {tests.passed} example(s)"
        if self.min_logprob is None:
            return checks
        return f"confident ({candidate.mean_logprob:.3f}) and {checks}"

    def _doubt(self, candidates: list[Candidate], verify: bool) -> str:
        if not candidates:
            return "no answer"
        best = max(candidates, key=lambda c: c.mean_logprob if c.mean_logprob is not None else -99.0)
        if not best.text.strip():
            return "an empty snippet"
        if best.syntax_ok is False:
            return "its snippet breaks the syntax"
        tests = best.evidence.tests
        if tests is not None and tests.failed:
            return f"its snippet fails {tests.failed} of {tests.passed + tests.failed} example(s) of the function"
        if verify and tests is None:
            return ("its snippet ran none of the function's examples (it does not finish the function, or the "
                    "document does not load in the sandbox), unverified")
        if best.mean_logprob is None:
            return "no log-probabilities to judge by"
        return f"unsure (mean log-probability {best.mean_logprob:.3f})"


def _usable(candidate: Candidate) -> bool:
    return bool(candidate.text.strip()) and candidate.syntax_ok is not False


def _sound(candidate: Candidate) -> bool:
    """Usable, and passing the examples where it ran them: what the checks accept."""
    return bool(candidate.text.strip()) and passes(candidate)


def _overdue(ctx: StrategyContext) -> bool:
    left = ctx.request.seconds_left()
    return left is not None and left <= 0
