"""Choose `[strategies.confidence] min_logprob` on one half of the FIM tasks, report the other.

Each member answers every task alone, in process, through the same request a completion
makes (the server's prompt window, the scope decided once, the post-processing pipeline);
each snippet is inserted and the hidden tests run in the sandbox. The cascade's outcome at a
threshold follows from these answers: the cheap member's snippet where it was confident and
passes the syntax check, else the strong member's. The threshold that passes most tasks of the
even half (fewest escalations on a tie) is chosen and reported on the odd half.

    .venv/bin/python benchmarks/fim_calibrate.py [--lines 32] [--blocks 20] [--seed 0] [--out calib.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import print_provenance  # noqa: E402

from codequorum.bench.execute import hidden_results  # noqa: E402
from codequorum.bench.fim_tasks import FimTask, fim_tasks, humaneval_programs, split_halves  # noqa: E402
from codequorum.config import load_settings  # noqa: E402
from codequorum.core.engine import Engine  # noqa: E402
from codequorum.sandbox import SandboxLimits  # noqa: E402
from codequorum.server.prompt_window import prompt_window  # noqa: E402
from codequorum.core.languages import Languages  # noqa: E402
from codequorum.vocabulary.request import completion_request  # noqa: E402

THRESHOLDS = [-0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5, -0.75, -1.0, -99.0]


async def answers(engine: Engine, tasks: list[FimTask], member: str, limits: SandboxLimits) -> list[dict]:
    server = engine.settings.server
    languages = Languages(engine.runtime.registry)
    rows = []
    for task in tasks:
        window = prompt_window(task.document, task.cursor, server.prefix_chars, server.suffix_chars)
        prefix, suffix = window.text[:window.cursor], window.text[window.cursor:]
        scope = languages.scope("python", prefix, suffix)
        request = completion_request(window.text, window.cursor, language="python", scope=scope,
                                     max_tokens=server.inline_max_tokens if scope == "block" else server.line_max_tokens)
        result = await engine.run(request, "single", [member])
        best = result.candidates[0] if result.candidates else None
        text = best.text if best else ""
        filled = task.document[:task.cursor] + text + task.document[task.cursor:]
        [passed] = await hidden_results(task.problem, [filled], limits) if text.strip() else [False]
        rows.append({"task": task.id, "member": member, "text": text, "passed": passed,
                     "logprob": best.mean_logprob if best else None,
                     "syntax": best.syntax_ok if best else None,
                     "seconds": result.trace.seconds})
        print("." if passed else "x", end="", flush=True)
    print()
    return rows


def cascade(cheap: dict, strong: dict, threshold: float) -> tuple[bool, bool]:
    """(passed, escalated) of the confidence cascade at `threshold`."""
    confident = cheap["text"].strip() and cheap["syntax"] is not False and \
        cheap["logprob"] is not None and cheap["logprob"] >= threshold
    return (cheap["passed"], False) if confident else (strong["passed"], True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cheap", default="qwen-small")
    parser.add_argument("--strong", default="qwen-large")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    print_provenance()
    tasks = fim_tasks(humaneval_programs(), args.lines, args.blocks, args.seed)
    settings = load_settings(None)
    engine = Engine(settings)
    limits = SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)
    rows = {}
    for member in (args.cheap, args.strong):
        print(f"# {member} ...", flush=True)
        rows[member] = {r["task"]: r for r in asyncio.run(answers(engine, tasks, member, limits))}
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for m in rows.values() for r in m.values()))
    tune, report = split_halves(tasks)
    chosen = max(THRESHOLDS, key=lambda t: (_score(tune, rows, args, t), -_escalations(tune, rows, args, t)))
    print("| threshold | tune pass | tune escalated | report pass | report escalated |")
    print("|---|---|---|---|---|")
    for t in THRESHOLDS:
        mark = " (chosen)" if t == chosen else ""
        print(f"| {t:g}{mark} | {_score(tune, rows, args, t)}/{len(tune)} | {_escalations(tune, rows, args, t)} "
              f"| {_score(report, rows, args, t)}/{len(report)} | {_escalations(report, rows, args, t)} |")
    for member in (args.cheap, args.strong):
        print(f"- {member} alone: tune {sum(rows[member][t.id]['passed'] for t in tune)}/{len(tune)}, "
              f"report {sum(rows[member][t.id]['passed'] for t in report)}/{len(report)}")


def _score(tasks: list[FimTask], rows: dict, args: argparse.Namespace, threshold: float) -> int:
    return sum(cascade(rows[args.cheap][t.id], rows[args.strong][t.id], threshold)[0] for t in tasks)


def _escalations(tasks: list[FimTask], rows: dict, args: argparse.Namespace, threshold: float) -> int:
    return sum(cascade(rows[args.cheap][t.id], rows[args.strong][t.id], threshold)[1] for t in tasks)


if __name__ == "__main__":
    main()
