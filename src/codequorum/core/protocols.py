"""The protocols the engine calls plugins through: a backend talks to one model, a check turns
candidates into evidence. Third-party plugins import them from `codequorum.plugins.protocols`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

from codequorum.config import MemberConfig
from codequorum.core.runtime import Runtime
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt, SnippetScore
from codequorum.vocabulary.request import Request


@runtime_checkable
class Backend(Protocol):
    """Talks to one model. Constructed as `Backend(member_config, runtime)`."""

    def __init__(self, member: MemberConfig, runtime: Runtime) -> None: ...

    @property
    def supports_fim(self) -> bool: ...

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Scorer(Protocol):
    """A backend that can also tell how likely its model finds given continuations of a prompt
    (teacher-forced log-probabilities; local models). Backends that cannot (a remote API that
    gives no prompt log-probabilities) simply do not have `score`: no score is ever made up."""

    async def score(
        self, prompt: Prompt, continuations: Sequence[str], cancel: CancelToken
    ) -> list[SnippetScore] | None: ...


class Check(Protocol):
    """Turns candidates into evidence, recorded on `candidate.evidence` (`vocabulary/evidence.py`);
    a third-party check keeps its own under `candidate.evidence.other[name]`.

    Constructed as `Check(runtime)`. It must tolerate any candidate text.
    """

    name: ClassVar[str]

    async def run(self, request: Request, candidates: Sequence[Candidate]) -> None: ...
