"""The FIM benchmark through the real server: what an editor user gets, per configuration.

For each configuration a fresh `codequorum serve` runs over stdio; for each task the plain
client opens the gapped document, asks for an inline completion at the gap, applies the
first item exactly as an editor would, and (while the server idles) the program's hidden
tests run in the sandbox. A second request at another place of the same open document
measures what moving in a file costs once its prompt prefix is cached.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codequorum.bench.execute import hidden_results
from codequorum.bench.fim_tasks import FimTask, exact
from codequorum.bench.lsp_client import LspError, StdioLspClient, apply_item
from codequorum.sandbox import SandboxLimits

REQUEST_TIMEOUT_S = 180.0  # the client gives up (and cancels) after this: "not answered"


@dataclass(frozen=True)
class FimOutcome:
    task: str
    kind: str  # "line" or "block"
    answered: bool
    passed: bool
    exact: bool
    seconds: float
    second_seconds: float | None  # the request at another place of the same document
    member: str  # who proposed the first item ("" when none)
    inserted: str = ""  # the first item's text
    expected: str = ""  # the gap's lines


@dataclass(frozen=True)
class FimSummary:
    name: str
    tasks: int
    answered: int
    passed: int
    exact: int
    p50: float
    p95: float
    second_p50: float | None

    @classmethod
    def of(cls, name: str, outcomes: Sequence[FimOutcome]) -> FimSummary:
        seconds = sorted(o.seconds for o in outcomes)
        seconds_at_second = [o.second_seconds for o in outcomes if o.second_seconds is not None]
        return cls(name, len(outcomes), sum(o.answered for o in outcomes), sum(o.passed for o in outcomes),
                   sum(o.exact for o in outcomes), _quantile(seconds, 0.5), _quantile(seconds, 0.95),
                   statistics.median(seconds_at_second) if seconds_at_second else None)


def server_argv(config: Path) -> list[str]:
    executable = Path(sys.executable).with_name("codequorum")
    return [str(executable), "serve", "--stdio", "--config", str(config)]


async def run_configuration(config_toml: str, tasks: Sequence[FimTask], limits: SandboxLimits,
                            second_place: bool = True,
                            progress: Callable[[FimOutcome], None] = lambda outcome: None,
                            ) -> list[FimOutcome]:
    with tempfile.TemporaryDirectory(prefix="codequorum-fim-") as folder:
        config = Path(folder, "codequorum.toml")
        config.write_text(config_toml, encoding="utf-8")
        client = await StdioLspClient.start(server_argv(config))
        try:
            await client.initialize(Path(folder).as_uri())
            outcomes = []
            for number, task in enumerate(tasks):
                outcome = await _one(client, task, f"{Path(folder).as_uri()}/task_{number}.py",
                                     limits, second_place)
                progress(outcome)
                outcomes.append(outcome)
            return outcomes
        finally:
            await client.shutdown()


async def _one(client: StdioLspClient, task: FimTask, uri: str, limits: SandboxLimits,
               second_place: bool) -> FimOutcome:
    document = task.document
    await client.open(uri, document)
    started = time.monotonic()
    try:
        items = await client.inline_completion(uri, document, task.cursor, REQUEST_TIMEOUT_S)
    except (TimeoutError, LspError):
        items = []
    seconds = time.monotonic() - started
    second = await _second_request(client, task, uri) if second_place else None
    await client.close(uri)
    if not items:
        return FimOutcome(task.id, task.kind, False, False, False, seconds, second, "", "", task.middle)
    filled = apply_item(document, items[0], task.cursor)
    [passed] = await hidden_results(task.problem, [filled], limits)
    member = str(items[0].get("command", {}).get("title", "")).removeprefix("codequorum: ")
    inserted = items[0]["insertText"] if isinstance(items[0]["insertText"], str) else ""
    return FimOutcome(task.id, task.kind, True, passed, exact(task.program, filled), seconds, second, member,
                      inserted, task.middle)


async def _second_request(client: StdioLspClient, task: FimTask, uri: str) -> float | None:
    started = time.monotonic()
    try:
        await client.inline_completion(uri, task.document, task.second_place(), REQUEST_TIMEOUT_S)
    except (TimeoutError, LspError):
        return None
    return time.monotonic() - started


def _quantile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
