"""The prompt ensemble: one member asked the same request in several prompt forms.

Any strategy takes the option `prompt_forms = ["fim", "chat", "chat-tests"]`; `ctx.sample` then
asks each member once per form (each form is its own call in the trace) and pools the answers.
- `fim`: the member's fill-in-the-middle template (completions only; skipped for a member
  without one);
- `chat`: the chat prompt without the visible tests;
- `chat-tests`: the chat prompt with the visible tests (skipped when there are none).
"""

from __future__ import annotations

from dataclasses import replace

from codequorum.core.fences import fenced
from codequorum.core.prompts import (
    FimTemplate,
    complete_chat_prompt,
    fim_prompt,
    fim_template,
    generate_chat_prompt,
)
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.generation import ChatMessage, Prompt
from codequorum.vocabulary.request import Request, TaskKind

FORMS = ("fim", "chat", "chat-tests")


def check_forms(forms: object) -> list[str]:
    if not isinstance(forms, list) or not forms or any(f not in FORMS for f in forms):
        raise ConfigError(f"prompt_forms must be a non-empty list of {', '.join(FORMS)}, not {forms!r}")
    return list(dict.fromkeys(forms))


def prompt_in_form(request: Request, fim: str | FimTemplate | None, form: str) -> Prompt | None:
    """The request in one form for a member with FIM template `fim`; None when it does not apply."""
    if form == "fim":
        if fim is None or request.kind is not TaskKind.COMPLETE:
            return None
        return fim_prompt(request, fim_template(fim))
    if form == "chat":
        return _chat(replace(request, tests=None))
    if not request.tests:
        return None
    if request.kind is not TaskKind.COMPLETE:
        return _chat(request)  # the generate prompt carries the tests already
    prompt = complete_chat_prompt(request)
    system, user = prompt.messages
    tests = f"The code must pass these tests:\n{fenced(request.tests.strip(), request.language or '')}"
    return replace(prompt, messages=(system, ChatMessage("user", f"{user.content}\n\n{tests}")))


def _chat(request: Request) -> Prompt:
    return complete_chat_prompt(request) if request.kind is TaskKind.COMPLETE else generate_chat_prompt(request)
