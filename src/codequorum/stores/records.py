"""What a store keeps of one feedback event: the suggestion, who made it, and the text around it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Literal

# accepted_partial: the user took the suggestion's first `accepted_chars` characters (a word or a
# line at a time, e.g. VS Code's acceptNextWord), reported again each time the taken part grows.
Event = Literal["shown", "accepted", "accepted_partial", "dismissed"]
EVENTS: tuple[Event, ...] = ("shown", "accepted", "accepted_partial", "dismissed")
COMPLETION_KINDS = ("inline", "completion")


@dataclass(frozen=True)
class FeedbackRecord:
    """One event about one suggestion. The texts are empty when `[server] feedback_keep_text`
    is off (and in rows stored before they were kept)."""

    event_id: str  # unique per event: what makes copying a store idempotent
    suggestion_id: str
    event: Event
    kind: str  # "inline", "completion" or "generate"
    member: str
    strategy: str
    language: str | None
    rank: int  # 0 = the best
    text: str  # the suggestion as it was shown
    prefix_tail: str  # the end of the text before the cursor: what the router embeds
    prompt_prefix: str  # the prompt window before the cursor, as the models saw it
    prompt_suffix: str  # the prompt window after the cursor
    suggested_at: float  # Unix time
    event_at: float
    accepted_chars: int | None = None  # accepted_partial only: UTF-16 code units, as LSP counts
    user_name: str | None = None  # the principal whose token the editor presented (none: no token)

    def share_taken(self) -> float | None:
        """How much of the suggestion an accept took: 1.0 for `accepted`, the part of the text
        for `accepted_partial` (None when the text was not kept, so its length is unknown)."""
        if self.event == "accepted":
            return 1.0
        if self.event != "accepted_partial" or self.accepted_chars is None or not self.text:
            return None
        return min(1.0, self.accepted_chars / utf16_length(self.text))


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FeedbackRecord))


def utf16_length(text: str) -> int:
    """The length of `text` as LSP clients count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def accepted_completions(records: Iterable[FeedbackRecord]) -> list[FeedbackRecord]:
    """Completions users accepted and never dismissed, with their prompt window and text kept:
    the examples a member can be trained on, one per suggestion.

    A partial accept is an example only once it took the whole suggestion (word by word to its
    end): a suggestion taken in part was not the completion the user wanted, and training on
    its full text would teach the part they left out."""
    records = list(records)
    dismissed = {r.suggestion_id for r in records if r.event == "dismissed"}
    examples: dict[str, FeedbackRecord] = {}
    for r in records:
        if (r.share_taken() == 1.0 and r.kind in COMPLETION_KINDS and r.suggestion_id not in dismissed
                and r.text.strip() and (r.prompt_prefix.strip() or r.prompt_suffix.strip())):
            examples.setdefault(r.suggestion_id, r)
    return list(examples.values())
