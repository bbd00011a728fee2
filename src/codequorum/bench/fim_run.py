"""The FIM benchmark through the real server: what an editor user gets, per configuration.

For each configuration a fresh `codequorum serve` runs over stdio; for each task the plain
client opens the gapped document, asks for an inline completion at the gap, applies the
first item exactly as an editor would, and (while the server idles) the program's hidden
tests run in the sandbox. The first request may wait a while after the document is opened
(a user placing the cursor; the server warms the prompt meanwhile, [server] warm_on_open). A
second request at another place of the same open document measures what moving in a file
costs once its prompt prefix is cached.
"""

from __future__ import annotations

import asyncio

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
from codequorum.server.extensions import STATS_COMMAND

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
    first_token_seconds: float | None = None  # of the first member asked, its prompt evaluated
    first_cached_share: float | None = None  # of that member's prompt, the part the KV cache held
    second_first_token_seconds: float | None = None  # the same at the second place
    second_cached_share: float | None = None  # of its prompt, the part the KV cache held
    asked: tuple[str, ...] = ()  # the members the first request called, in order
    second_asked: tuple[str, ...] = ()  # the same at the second place


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
    first_token_p50: float | None = None
    second_first_token_p50: float | None = None

    @classmethod
    def of(cls, name: str, outcomes: Sequence[FimOutcome]) -> FimSummary:
        seconds = sorted(o.seconds for o in outcomes)
        return cls(name, len(outcomes), sum(o.answered for o in outcomes), sum(o.passed for o in outcomes),
                   sum(o.exact for o in outcomes), _quantile(seconds, 0.5), _quantile(seconds, 0.95),
                   _median([o.second_seconds for o in outcomes]),
                   _median([o.first_token_seconds for o in outcomes]),
                   _median([o.second_first_token_seconds for o in outcomes]))


def server_argv(config: Path) -> list[str]:
    executable = Path(sys.executable).with_name("codequorum")
    return [str(executable), "serve", "--stdio", "--config", str(config)]


async def run_configuration(config_toml: str, tasks: Sequence[FimTask], limits: SandboxLimits,
                            second_place: bool = True,
                            progress: Callable[[FimOutcome], None] = lambda outcome: None,
                            dwell_s: float = 0.0,
                            open_dwell_s: float = 0.0,
                            ) -> list[FimOutcome]:
    """Each task in its own open document, the first request `open_dwell_s` after opening it
    (0: at once); with `second_place`, another request in it `dwell_s` after the first answer
    (a user reading the suggestion and moving on; 0: at once)."""
    with tempfile.TemporaryDirectory(prefix="codequorum-fim-") as folder:
        config = Path(folder, "codequorum.toml")
        config.write_text(config_toml, encoding="utf-8")
        client = await StdioLspClient.start(server_argv(config))
        try:
            await client.initialize(Path(folder).as_uri())
            outcomes = []
            for number, task in enumerate(tasks):
                outcome = await _one(client, task, f"{Path(folder).as_uri()}/task_{number}.py",
                                     limits, second_place, dwell_s, open_dwell_s)
                progress(outcome)
                outcomes.append(outcome)
            return outcomes
        finally:
            await client.shutdown()


async def _one(client: StdioLspClient, task: FimTask, uri: str, limits: SandboxLimits,
               second_place: bool, dwell_s: float, open_dwell_s: float) -> FimOutcome:
    document = task.document
    await client.open(uri, document)
    await asyncio.sleep(open_dwell_s)
    started = time.monotonic()
    try:
        items = await client.inline_completion(uri, document, task.cursor, REQUEST_TIMEOUT_S)
    except (TimeoutError, LspError):
        items = []
    seconds = time.monotonic() - started
    first = await _last_run(client)
    second, second_run = (await _second_request(client, task, uri, dwell_s)
                          if second_place else (None, LastRun()))
    await client.close(uri)
    timing = {"first_token_seconds": first.first_token_seconds, "first_cached_share": first.cached_share,
              "second_first_token_seconds": second_run.first_token_seconds,
              "second_cached_share": second_run.cached_share, "asked": first.asked,
              "second_asked": second_run.asked}
    if not items:
        return FimOutcome(task.id, task.kind, False, False, False, seconds, second, "", "", task.middle, **timing)
    filled = apply_item(document, items[0], task.cursor)
    [passed] = await hidden_results(task.problem, [filled], limits)
    member = str(items[0].get("command", {}).get("title", "")).removeprefix("codequorum: ")
    inserted = items[0]["insertText"] if isinstance(items[0]["insertText"], str) else ""
    return FimOutcome(task.id, task.kind, True, passed, exact(task.program, filled), seconds, second, member,
                      inserted, task.middle, **timing)


async def _second_request(client: StdioLspClient, task: FimTask, uri: str, dwell_s: float,
                          ) -> tuple[float | None, LastRun]:
    """Seconds of a request at another place of the open document, and its run."""
    await asyncio.sleep(dwell_s)
    started = time.monotonic()
    try:
        await client.inline_completion(uri, task.document, task.second_place(), REQUEST_TIMEOUT_S)
    except (TimeoutError, LspError):
        return None, LastRun()
    seconds = time.monotonic() - started
    return seconds, await _last_run(client)


@dataclass(frozen=True)
class LastRun:
    """The server's last completion run, as its stats report it."""

    first_token_seconds: float | None = None  # of its first member call (None: it produced nothing)
    cached_share: float | None = None  # of that call's prompt, the part the KV cache held
    asked: tuple[str, ...] = ()  # the members it called, in order


async def _last_run(client: StdioLspClient) -> LastRun:
    try:
        stats = await client.request("workspace/executeCommand", {"command": STATS_COMMAND, "arguments": []}, 30)
    except (TimeoutError, LspError):
        return LastRun()
    calls = ((stats or {}).get("last_run") or {}).get("calls") or []
    asked = tuple(str(call.get("member", "")) for call in calls)
    if not calls or calls[0].get("first_token_seconds") is None:
        return LastRun(asked=asked)
    call = calls[0]
    prompt = call.get("prompt_tokens") or 0
    return LastRun(call["first_token_seconds"], call.get("cached_prompt_tokens", 0) / prompt if prompt else None,
                   asked)


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _quantile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
