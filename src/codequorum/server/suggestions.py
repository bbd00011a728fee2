"""What a completion answers with: ranked suggestions, each traceable to the member behind it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap
from codequorum.vocabulary.result import Result

Scope = Literal["line", "block"]


@dataclass(frozen=True)
class Suggestion:
    """One snippet to insert at the cursor, and who produced it."""

    text: str
    member: str
    strategy: str
    score: float = 0.0

    def without_typed(self, typed: str) -> Suggestion:
        """The rest of the snippet once the user has typed its first characters."""
        return replace(self, text=self.text[len(typed):])


def suggestions_from(result: Result, scope: Scope, suffix: str, limit: int) -> tuple[Suggestion, ...]:
    """The result's candidates best first, cut to the scope, without empty or repeated text."""
    seen: set[str] = set()
    ranked: list[Suggestion] = []
    for candidate in result.candidates:
        text = fit_to_scope(candidate.text, scope, suffix)
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        ranked.append(Suggestion(text, candidate.member, result.strategy, candidate.score))
        if len(ranked) == limit:
            break
    return tuple(ranked)


def fit_to_scope(text: str, scope: Scope, suffix: str) -> str:
    """In "line" mode only the rest of the cursor's line is kept, without what the line
    already has after the cursor (`sorted(|)` completed as `values))` gives `values`)."""
    if scope == "block":
        return text
    return remove_suffix_overlap(text.split("\n", 1)[0].rstrip(), suffix)
