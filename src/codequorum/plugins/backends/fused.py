"""The members mixed token by token (`mixing.py`) behind the Backend protocol, and the one member
that stands for them, so that the context samples them like any member."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

from codequorum.config import MemberConfig
from codequorum.core.member import Member
from codequorum.plugins.backends._threads import run_local
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.plugins.backends.mixing import fused_generation
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt


def mixable(member: Member) -> bool:
    """Whether the member's model can be stepped token by token here (a local llama.cpp model)."""
    return isinstance(member.backend, LlamaCppBackend)


class FusedBackend:
    """The mixed members behind the Backend protocol, so the context samples them like any
    member (deadline, trace, cancellation, clean-up): one scheduler slot for the whole answer,
    the work in a worker thread that holds every member's model."""

    def __init__(self, backends: Sequence[LlamaCppBackend], weight_temperature: float, scored: int,
                 note: Callable[[str], None]) -> None:
        self.backends = list(backends)
        self.weight_temperature = weight_temperature
        self.scored = scored
        self.note = note

    @property
    def supports_fim(self) -> bool:
        return all(b.supports_fim for b in self.backends)

    async def generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        runtime = self.backends[0].runtime
        priority = sum(b.member.price_per_1k_tokens for b in self.backends)
        return await run_local(runtime.scheduler, priority, lambda: self._generate(prompt, params, cancel), cancel)

    def _generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        with ExitStack() as stack:
            # models are taken in one global order (by name), so two mixtures never deadlock
            opened = {b.member.name: stack.enter_context(b.stepper())
                      for b in sorted(self.backends, key=lambda b: b.member.name)}
            steppers = [opened[b.member.name] for b in self.backends]
            return [fused_generation(steppers, prompt, params, cancel, self.weight_temperature,
                                     self.scored, self.note)]

    async def aclose(self) -> None:
        return None  # the members' own backends own the models


def fused_member(members: Sequence[Member], backend: FusedBackend) -> Member:
    """One member standing for the mixed ones: each token costs all of them."""
    config = MemberConfig.model_validate({
        "name": "+".join(m.name for m in members),
        "backend": "logit-fusion",
        "fim": members[0].config.fim,
        "chat": all(m.config.chat for m in members),
        "max_tokens": min((m.config.max_tokens for m in members if m.config.max_tokens), default=None),
        "price_per_1k_tokens": sum(m.config.price_per_1k_tokens for m in members),
        "quality": max(m.config.quality for m in members),
        "retries": 0,
        "circuit_failures": 0,
    })
    config.bind_fim_template(members[0].config.fim_template)  # a [fim_templates.NAME] of the settings too
    return Member(config=config, backend=backend)
