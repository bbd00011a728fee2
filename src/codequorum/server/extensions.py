"""codequorum's extensions to LSP: command and notification names, and their wire schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codequorum.server.feedback_store import Event

ACCEPT_COMMAND = "codequorum.accept"  # arguments: [suggestion id]; inline items carry it
GENERATE_COMMAND = "codequorum.generate"  # arguments: [GenerateArgs]
FIX_COMMAND = "codequorum.fix"  # arguments: [FixArgs]
STATS_COMMAND = "codequorum.stats"  # no arguments; returns the session's counters
FEEDBACK_NOTIFICATION = "codequorum/feedback"  # params: FeedbackParams


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WirePosition(_Wire):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class WireRange(_Wire):
    start: WirePosition
    end: WirePosition


class GenerateArgs(_Wire):
    """Where the instruction is: a selection (`range`) or the comment on `line` (0-based)."""

    uri: str
    range: WireRange | None = None
    line: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_place(self) -> GenerateArgs:
        if (self.range is None) == (self.line is None):
            raise ValueError("give exactly one of `range` (a selection) or `line` (a comment)")
        return self


class FixArgs(_Wire):
    """The saved file to fix, and the test command (default: `[server] fix_test_command`).

    Editors send the place the command was invoked at (the same shape as generate's); the
    function to fix is found from the failing tests, so `range` and `line` are accepted and
    not needed."""

    uri: str
    test: str | None = None
    range: WireRange | None = None
    line: int | None = Field(None, ge=0)


class FeedbackParams(_Wire):
    """`accepted_chars`: for `accepted_partial` only, how much of the suggestion the user has
    taken so far (its first N characters, in UTF-16 code units as LSP counts them)."""

    id: str
    event: Event
    accepted_chars: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _length_of_partial_accepts(self) -> FeedbackParams:
        if (self.event == "accepted_partial") != (self.accepted_chars is not None):
            raise ValueError("`accepted_chars` goes with the event `accepted_partial`, and only with it")
        return self


def plain(value: Any) -> Any:
    """JSON-like data from what pygls hands over for custom messages (namedtuples inside)."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
