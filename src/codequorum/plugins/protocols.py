"""The small typed protocols every plugin kind implements, and the vocabulary they speak.

Built-in plugins implement these exactly like third-party ones and are registered through
the entry-point groups named in `GROUPS`. The backend and check protocols live with the engine
that calls them (`core/protocols.py`), the data in `codequorum.vocabulary`; plugins import all
of it from here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from codequorum.core.context import StrategyContext
from codequorum.core.protocols import Backend, Check, Scorer
from codequorum.core.registry import GROUPS, PluginKind
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.generation import (
    ChatMessage,
    Generation,
    GenerationParams,
    Prompt,
    SnippetScore,
)
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import Result

__all__ = [
    "GROUPS", "Backend", "CancelToken", "Candidate", "ChatMessage", "Check", "Generation",
    "GenerationParams", "PluginKind", "Prompt", "Request", "Result", "Scorer", "SnippetScore", "Strategy",
]


class Strategy(Protocol):
    """A recipe over members, checks and ranking. Constructed as `Strategy(options)`, once per
    engine and options, and reused by every request that asks for it: keep per-request state
    in `run`.

    A strategy may declare `Options: ClassVar[type[BaseModel]]` (e.g. a `StrategyOptions`
    subclass, `core/strategy_options.py`): its options are then checked against it when the
    settings load and when a request brings its own, and it is constructed with the validated
    model. Without one it gets the options as a plain dict. A strategy that lets another
    answer (`core/toolkit.py: hand_over`) names it and its options in `hands_over_to`.

    A strategy that needs more of a member than `generate` (the token-level mixing of
    `logit-fusion`) sets `replayable = False`: the benchmark then runs it on the real members
    instead of replaying their collected answers.
    """

    name: ClassVar[str]

    def __init__(self, options: Any) -> None: ...

    async def run(self, ctx: StrategyContext) -> Result: ...
