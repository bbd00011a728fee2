"""What a store keeps of one feedback event: the suggestion, who made it, and the text around it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Literal

Event = Literal["shown", "accepted", "dismissed"]
EVENTS: tuple[Event, ...] = ("shown", "accepted", "dismissed")
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


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FeedbackRecord))


def accepted_completions(records: Iterable[FeedbackRecord]) -> list[FeedbackRecord]:
    """Completions users accepted and never dismissed, with their prompt window and text kept:
    the examples a member can be trained on."""
    records = list(records)
    dismissed = {r.suggestion_id for r in records if r.event == "dismissed"}
    return [r for r in records if r.event == "accepted" and r.kind in COMPLETION_KINDS
            and r.suggestion_id not in dismissed and r.text.strip()
            and (r.prompt_prefix.strip() or r.prompt_suffix.strip())]
