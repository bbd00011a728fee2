"""The typer application: wires the command groups together."""

from __future__ import annotations

import logging

import typer

from codequorum import __version__
from codequorum.cli import bench, config_cmd, connect, distill, feedback, fix, models, router, run, sandbox, serve

app = typer.Typer(
    name="codequorum",
    help="An ensemble of code LLMs: generate, check, rank, and return the best snippet.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("complete")(run.complete)
app.command("generate")(run.generate)
app.command("fix")(fix.fix)
app.command("serve")(serve.serve)
app.command("connect")(connect.connect)
app.command("distill")(distill.distill)
app.add_typer(models.app, name="models")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(bench.app, name="bench")
app.add_typer(config_cmd.app, name="config")
app.add_typer(router.app, name="router")
app.add_typer(feedback.app, name="feedback")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codequorum {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens to stderr."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    if logging.getLogger().handlers:
        return  # a program that embeds the CLI has configured logging itself
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:  # what the result's trace does not already say, once, as one plain line
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.addFilter(_Once())
        logging.basicConfig(level=logging.WARNING, handlers=[handler])


class _Once(logging.Filter):
    """Each distinct message once per run; level names in lower case (`warning: ...`)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        record.levelname = record.levelname.lower()
        return True
