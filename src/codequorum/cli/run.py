"""`codequorum complete` and `codequorum generate`: one request through the engine."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from codequorum.cli.errors import stderr, user_errors
from codequorum.cli.render import print_result
from codequorum.config import Settings, load_settings
from codequorum.core.engine import Engine
from codequorum.core.registry import Registry
from codequorum.plugins.languages.detect import language_for_path
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.request import Budget, Request, TaskKind, completion_request, offset_of
from codequorum.vocabulary.result import Result

ConfigOption = typer.Option(None, "--config", help="Configuration file (TOML).")
StrategyOption = typer.Option(None, "--strategy", "-s", help="Strategy (default from config).")
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
        request = completion_request(
            text, offset,
            language=language or language_for_path(file, registry.load_all("languages")),
            path=file,
            max_tokens=max_tokens or settings.engine.max_tokens,
            budget=Budget(deadline_s=settings.engine.deadline_s),
        )
        result = _run(settings, registry, request, strategy, member)
    _emit(result, as_json)


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
        settings = load_settings(config)
        request = Request(
            TaskKind.GENERATE,
            language=language,
            instruction=instruction if instruction is not None else _read(instruction_file),
            tests=_read(tests_file) if tests_file else None,
            max_tokens=max_tokens or max(settings.engine.max_tokens, 384),
            budget=Budget(deadline_s=settings.engine.deadline_s),
        )
        registry = Registry(disabled=frozenset(settings.plugins.disabled))
        result = _run(settings, registry, request, strategy, member)
    _emit(result, as_json)


def _run(
    settings: Settings, registry: Registry, request: Request, strategy: str | None, member: str | None
) -> Result:
    options: dict[str, Any] = {"member": member} if member else {}
    if member and strategy is None:
        strategy = "single"

    async def go() -> Result:
        engine = Engine(settings, registry)
        try:
            return await engine.run(request, strategy=strategy, options=options)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def _read(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CodequorumError(f"cannot read {path}: {error}") from error


def _emit(result: Result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
    else:
        print_result(result)
    if not result.candidates:
        stderr.print(f"[bold red]error:[/] no answer: {_why_no_answer(result)}", highlight=False)
        raise typer.Exit(1)


def _why_no_answer(result: Result) -> str:
    """The stop reason, the members' errors, or else the trace's last word."""
    reasons = [result.trace.stop_reason or "no candidate"]
    reasons += [f"{call.member}: {call.error}" for call in result.trace.errors]
    if not result.trace.errors and result.trace.events:
        reasons.append(result.trace.events[-1])
    return "; ".join(reasons)
