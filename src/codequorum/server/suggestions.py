"""What a completion answers with: ranked suggestions, each traceable to the member behind it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from codequorum.vocabulary.result import Result


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


def suggestions_from(result: Result, limit: int) -> tuple[Suggestion, ...]:
    """The result's candidates best first, without empty or repeated text.

    The candidates' text is already what the editor inserts: the engine's post-processing
    fitted it to the request's scope before checks and ranking judged it.
    """
    seen: set[str] = set()
    ranked: list[Suggestion] = []
    for candidate in result.candidates:
        text = candidate.text
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        ranked.append(Suggestion(text, candidate.member, result.strategy, candidate.score))
        if len(ranked) == limit:
            break
    return tuple(ranked)
