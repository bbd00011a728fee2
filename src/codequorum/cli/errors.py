"""Turn project errors into one clear line and an exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from codequorum.vocabulary.errors import CodequorumError

stderr = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except CodequorumError as error:
        stderr.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)  # "[engine] …" is text
        raise typer.Exit(2) from None
