"""What the terminal shows while the members work: a spinner on stderr (never on stdout, which
`--json` keeps for its one object), and which setting bounds the wait."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from codequorum.config import Settings

stderr = Console(stderr=True)


@contextmanager
def working(what: str, members: list[str] | None, settings: Settings,
            console: Console = stderr) -> Iterator[None]:
    """A spinner saying `what` runs over which members, within which time limit, while the block
    runs; nothing when stderr is not a terminal (logs, pipes, CI)."""
    if not console.is_terminal:
        yield
        return
    names = ", ".join(members or [m.name for m in settings.enabled_members()])
    key, seconds = time_limit_setting(settings)
    limit = f"; up to {seconds} ({key})" if seconds != "none" else ""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(escape(f"{what} over {names}: the members are working{limit}"), total=None)
        yield


def time_limit_setting(settings: Settings) -> tuple[str, str]:
    """The setting that ends a request that has no answer yet, and its value: the hard cap when
    the engine has one, else the deadline."""
    engine: Any = settings.engine
    if hasattr(engine, "hard_cap_s"):
        return "[engine] hard_cap_s", _seconds(engine.hard_cap_s)
    return "[engine] deadline_s", _seconds(engine.deadline_s)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:g} s"


class ConsoleListener:
    """A long command's notes as `# ...` lines and its stages as progress bars (bench, distill)."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def note(self, line: str) -> None:
        self._console.print(f"# {line}", markup=False, highlight=False)

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[str], None]]:
        with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=self._console) as progress:
            task = progress.add_task(description, total=total)
            yield lambda now: progress.update(task, advance=1, description=now)
