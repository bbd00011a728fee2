"""`codequorum complete` and `codequorum generate`: one request through the engine."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from codequorum.cli.errors import stderr, user_errors
from codequorum.cli.preflight import check_request_choice
from codequorum.cli.progress import time_limit_setting, working
from codequorum.cli.render import print_calls, print_result
from codequorum.config import Settings, load_settings
from codequorum.core.engine import Engine
from codequorum.core.registry import Registry
from codequorum.core.languages import Languages
from codequorum.core.toolkit import verified
from codequorum.stores.verified import VerifiedAnswer, keep_verified
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.request import Budget, Request, TaskKind, completion_request, offset_of
from codequorum.vocabulary.result import Result

ConfigOption = typer.Option(None, "--config", help="Configuration file (TOML).")
StrategyOption = typer.Option(
    None, "--strategy", "-s", help="Strategy as NAME or NAME:key=value:..., e.g. cascade:samples=1 "
    "(default: [engine] strategy; for complete, [server] inline_strategy).")
MemberOption = typer.Option(None, "--member", "-m", help="Member for --strategy single.")
JsonOption = typer.Option(False, "--json", help="Print one JSON object.")
MaxTokensOption = typer.Option(None, "--max-tokens", help="Cap on generated tokens.")


def complete(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Source file."),
    line: int = typer.Option(..., "--line", "-l", help="1-based line of the cursor."),
    column: int = typer.Option(..., "--column", "-c", help="1-based column; cursor sits before it."),
    language: str | None = typer.Option(None, "--language", help="Override the detected language."),
    strategy: str | None = StrategyOption,
    member: str | None = MemberOption,
    max_tokens: int | None = MaxTokensOption,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Fill in code at the cursor, from the text before and after it."""
    with user_errors():
        settings = load_settings(config)
        text = _read(file)
        try:
            offset = offset_of(text, line, column)
        except ValueError as error:
            raise CodequorumError(f"{file}: {error}") from error
        registry = Registry(disabled=frozenset(settings.plugins.disabled))
        # a completion, like the editor's: its own strategy ([server] inline_strategy)
        choice = _choice(settings, registry, strategy, member, default=settings.server.inline_strategy)
        request = completion_request(
            text, offset,
            language=Languages(registry).name_for(language, file),
            path=file,
            max_tokens=max_tokens or settings.engine.max_tokens,
            budget=Budget(deadline_s=settings.engine.deadline_s),
        )
        result = _run(settings, registry, request, choice)
    _emit(result, as_json, settings)


def generate(
    instruction: str | None = typer.Option(None, "--instruction", "-i", help="What to write."),
    instruction_file: Path | None = typer.Option(None, "--instruction-file", exists=True, dir_okay=False),
    tests_file: Path | None = typer.Option(None, "--tests-file", exists=True, dir_okay=False,
                                           help="Visible tests, used to choose among candidates."),
    language: str = typer.Option("python", "--language"),
    strategy: str | None = StrategyOption,
    member: str | None = MemberOption,
    max_tokens: int | None = MaxTokensOption,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Write code from an instruction."""
    with user_errors():
        if (instruction is None) == (instruction_file is None):
            raise CodequorumError("give exactly one of --instruction TEXT or --instruction-file FILE")
        text = instruction if instruction is not None else _read(instruction_file)
        if not text.strip():
            raise CodequorumError("the instruction is empty: say what to write, e.g. "
                                  "-i 'a function is_prime(n) that tells whether n is prime'")
        settings = load_settings(config)
        registry = Registry(disabled=frozenset(settings.plugins.disabled))
        choice = _choice(settings, registry, strategy, member, settings.generation_members())
        request = Request(
            TaskKind.GENERATE,
            language=language,
            instruction=text,
            tests=_read(tests_file) if tests_file else None,
            max_tokens=max_tokens or max(settings.engine.max_tokens, 384),
            budget=Budget(deadline_s=settings.engine.deadline_s),
        )
        result = _run(settings, registry, request, choice)
    _keep_if_verified(settings, request, result)
    _emit(result, as_json, settings)


def _keep_if_verified(settings: Settings, request: Request, result: Result) -> None:
    """The best answer, when the visible tests ran on it in the sandbox and all passed, goes to
    the verified-answer log that `codequorum distill` trains on."""
    best = result.best
    if request.tests is None or best is None or not verified(best):
        return
    entry = VerifiedAnswer(kind="generate", language=request.language,
                           instruction=request.instruction or "", answer=best.text,
                           member=best.member, verified_by="the visible tests", tests=request.tests)
    note = keep_verified(settings.distill, entry)
    if note:
        stderr.print(note, highlight=False, markup=False)


@dataclass(frozen=True)
class Choice:
    """What one command asks the engine for, checked before any model runs."""

    strategy: str | None  # a spec (NAME[:key=value...]); None = the [engine] default
    name: str
    options: dict[str, Any]
    members: list[str] | None  # None = every enabled member


def _choice(settings: Settings, registry: Registry, strategy: str | None, member: str | None,
            members: list[str] | None = None, default: str | None = None) -> Choice:
    """`--member M` alone means `single` with M, else `strategy`, else `default`; usage errors
    (an unknown strategy, option or member) are refused here, with exit code 2, before any
    model is loaded."""
    options: dict[str, Any] = {"member": member} if member else {}
    if member and strategy is None:
        strategy = "single"
    strategy = strategy or default
    if member:
        members = None  # a named member is asked whatever its `generate` flag
    name = check_request_choice(settings, registry, strategy, options, members)
    return Choice(strategy, name, options, members)


def _run(settings: Settings, registry: Registry, request: Request, choice: Choice) -> Result:
    async def go() -> Result:
        engine = Engine(settings, registry)
        try:
            with working(choice.name, choice.members, settings):
                return await engine.run(request, strategy=choice.strategy, members=choice.members,
                                        options=choice.options)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def _read(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CodequorumError(f"cannot read {path}: {error}") from error


def _emit(result: Result, as_json: bool, settings: Settings) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
    elif result.candidates:
        print_result(result)
    else:
        print_calls(result)  # who was asked and how each call ended; no empty tables
    if not result.candidates:
        stderr.print(f"[bold red]error:[/] no answer: {escape(_why_no_answer(result))}", highlight=False)
        hint = _next_step(result, settings)
        if hint:
            stderr.print(hint, highlight=False, markup=False)
        raise typer.Exit(1)


def _why_no_answer(result: Result) -> str:
    """The stop reason, the members' errors, or else the trace's last word."""
    reasons = [result.trace.stop_reason or "no candidate"]
    reasons += [f"{call.member}: {call.error}" for call in result.trace.errors]
    if not result.trace.errors and result.trace.events:
        reasons.append(result.trace.events[-1])
    return "; ".join(reasons)


def _next_step(result: Result, settings: Settings) -> str | None:
    """What to change when the time limit ended the request before any answer."""
    timed_out = any("TimeoutError" in (call.error or "") or "deadline" in (call.error or "")
                    for call in result.trace.calls)
    if not timed_out:
        return None
    key, seconds = time_limit_setting(settings)
    return (f"the time limit ended the request before any member answered: raise {key} "
            f"(now {seconds}) in your configuration (`codequorum config example` shows where), "
            "or ask a faster member with --member")
