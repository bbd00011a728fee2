"""`codequorum sandbox run`: run a command the way candidates' tests are run."""

from __future__ import annotations

import json

import typer

from codequorum.cli.errors import user_errors

app = typer.Typer(help="Run commands in the bubblewrap sandbox.", no_args_is_help=True)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    command: list[str] = typer.Argument(..., help="The command and its arguments, after --."),
    timeout: float = typer.Option(10.0, "--timeout", help="Wall-clock limit in seconds."),
    memory: int = typer.Option(512, "--memory", help="Address-space limit in MB."),
) -> None:
    """Run CMD sandboxed and print a JSON object with its outcome."""
    from codequorum.sandbox import run_command_json

    with user_errors():
        outcome = run_command_json(command, timeout_s=timeout, memory_mb=memory)
    typer.echo(json.dumps(outcome, indent=2))
