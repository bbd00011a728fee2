"""`codequorum router`: build the `route` strategy's memory from benchmark runs and editor feedback."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from codequorum.cli.errors import user_errors
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.request import Request

app = typer.Typer(help="The kNN router's memory (the `route` strategy).", no_args_is_help=True)
console = Console()


@app.command("build")
def build(
    from_dirs: list[Path] = typer.Option(
        [], "--from", help="A `codequorum bench ... --out` folder (repeatable)."),
    problems: Path | None = typer.Option(
        None, "--problems", exists=True, dir_okay=False,
        help="The JSONL suite a `bench file` run used (default: HumanEval, for `bench humaneval`)."),
    feedback: str | None = typer.Option(
        None, "--feedback", help="The editor feedback store: a file, sqlite:///PATH or postgresql://… "
        "(default: the language server's SQLite file, if any)."),
    no_feedback: bool = typer.Option(False, "--no-feedback", help="Leave editor feedback out."),
    out: str | None = typer.Option(
        None, "--out", help="Where to write the memory: a JSONL file (default: the user data dir), or a "
        "store that several servers share (sqlite:///PATH, postgresql://…: set the route strategy's "
        "`memory` to the same)."),
) -> None:
    """Embed past requests and how each member did on them; `route` reads the result."""
    from codequorum.routing.embed import MiniLmEmbedder
    from codequorum.routing.memory import (
        build_memory,
        default_memory_path,
        entries_from_outcomes,
        outcomes_from_bench,
        outcomes_from_feedback,
    )
    from codequorum.routing.memory_source import describe, save_memory
    from codequorum.server.feedback_store import default_feedback_path

    with user_errors():
        outcomes, sources = [], {}
        requests = _bench_requests(problems) if from_dirs else {}
        for folder in from_dirs:
            found, named = outcomes_from_bench(folder, requests)
            console.print(f"{folder}: {len(found)} candidate record(s)")
            outcomes += found
            sources.update(named)
        if not no_feedback:
            store = feedback or str(default_feedback_path())
            found = outcomes_from_feedback(store)
            console.print(f"{describe(store)}: {len(found)} accepted, partly accepted or dismissed "
                          "suggestion(s)", highlight=False)
            outcomes += found
        entries = entries_from_outcomes(outcomes, sources)
        if not entries:
            raise CodequorumError("nothing to build the memory from: give --from BENCH_OUT_DIR "
                                  "or use the editor with feedback on")
        memory = build_memory(entries, MiniLmEmbedder())
        where = out or str(default_memory_path())
        save_memory(memory, where)
        members = sorted({m for e in entries for m in e.outcomes})
        console.print(f"wrote {describe(where)}: {len(memory)} past request(s), members {', '.join(members)}",
                      highlight=False)


def _bench_requests(problems: Path | None) -> dict[str, Request]:
    """Each problem's request exactly as the bench asked it, so the texts embedded match."""
    from codequorum.bench.collect import request_for
    from codequorum.bench.problems import from_jsonl, humaneval

    suite = from_jsonl(problems) if problems else humaneval()
    return {p.id: request_for(p, max_tokens=384, deadline_s=None) for p in suite}
