"""Choose `[strategies.confidence]` options on one half of the FIM tasks, report the other.

Each member answers every task alone, in process, through the same request a completion
makes (the server's prompt window, the scope decided once, the post-processing pipeline);
each snippet is inserted and the hidden tests run in the sandbox. Then, with both members'
prompts still in their KV caches, each member's model scores both snippets (`judge`: its
log-probability of each snippet after the same FIM prompt). Every selection rule's outcome
follows from these answers:

- the cheapest-first cascade at a `min_logprob` threshold: the cheap member's snippet where it
  was confident and passes the syntax check, else the strong member's;
- `confidence` with `order = "strongest"`: the strong member's snippet where usable and not
  failing the examples of the function it finishes, else the cheap one's; and as it was
  before session 13 (syntax only);
- a judge (`judge = "strongest"`: the strong member's score; `"all"`: both members' scores
  summed, a product of experts) by `judge_by` (mean, sum, mean with the end counted): where
  both snippets are usable and differ, the cheap one wins when its judged value beats the
  strong one's by more than a margin;
- `confidence` as shipped (`order = "cheapest-verified"`): the cheap member's snippet where it
  passes the examples of the function it finishes, the strong member not asked; else
  strongest first;
- agreement: both snippets equal (whitespace ignored).

A rule's parameter (threshold, margin) is the one that passes most tasks of the even half
(fewest escalations or cheap picks, then the smallest margin, on a tie), reported on the odd
half.

    .venv/bin/python benchmarks/fim_calibrate.py [--lines 32] [--blocks 20] [--seed 0] [--out calib.jsonl]
    .venv/bin/python benchmarks/fim_calibrate.py --rows calib.jsonl   # the tables again, no model run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import print_provenance  # noqa: E402

from codequorum.bench.execute import hidden_results  # noqa: E402
from codequorum.bench.fim_tasks import FimTask, fim_tasks, humaneval_programs, split_halves  # noqa: E402
from codequorum.config import load_settings  # noqa: E402
from codequorum.core.engine import Engine  # noqa: E402
from codequorum.core.languages import Languages  # noqa: E402
from codequorum.sandbox import SandboxLimits  # noqa: E402
from codequorum.server.completion_service import CompletionPolicy, CompletionQuery  # noqa: E402
from codequorum.server.prompt_window import prompt_window  # noqa: E402
from codequorum.vocabulary.cancel import CancelToken  # noqa: E402
from codequorum.vocabulary.request import Request  # noqa: E402

THRESHOLDS = [-0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5, -0.75, -1.0, -99.0]
MARGINS = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 99.0]  # `judge_margin`; 99: never the cheap snippet
SIGNALS = ("mean", "sum", "mean-with-end")

Row = dict  # one member's answer to one task, as written to --out
Rule = Callable[[Row, Row, float], tuple[bool, bool]]  # (cheap, strong, parameter) -> (passed, cheap taken)


def request_for(engine: Engine, document: str, cursor: int) -> Request:
    """The request the server builds for this cursor in a Python file (no other open files)."""
    server = engine.settings.server
    window = prompt_window(document, cursor, server.prefix_chars, server.suffix_chars)
    scope = Languages(engine.runtime.registry).scope("python", window.text[:window.cursor], window.text[window.cursor:])
    query = CompletionQuery("calibration", document, cursor, language="python", scope=scope)
    return CompletionPolicy.from_settings(engine.settings).request(query)


async def answer(engine: Engine, task: FimTask, request: Request, member: str, limits: SandboxLimits) -> Row:
    result = await engine.run(request, "single", [member])
    best = result.candidates[0] if result.candidates else None
    text = best.text if best else ""
    filled = task.document[:task.cursor] + text + task.document[task.cursor:]
    [passed] = await hidden_results(task.problem, [filled], limits) if text.strip() else [False]
    return {"task": task.id, "member": member, "text": text, "passed": passed,
            "logprob": best.mean_logprob if best else None,
            "syntax": best.syntax_ok if best else None,
            "examples_failed": best.tests.failed if best and best.tests else None,
            "seconds": result.trace.seconds, "scores": {}}


async def judge(engine: Engine, request: Request, judge_name: str, rows: list[Row]) -> float:
    """The judge's score of each row's snippet, recorded on the row; the scoring's seconds."""
    member = engine.member(judge_name)
    if not member.can_score:
        raise SystemExit(f"member {judge_name} cannot score snippets: a judge needs the llama-cpp backend")
    scored = [r for r in rows if r["text"].strip()]
    started = time.monotonic()
    scores = await member.score(member.prompt_for(request), [r["text"] for r in scored], CancelToken())
    seconds = time.monotonic() - started
    for row, score in zip(scored, scores or [], strict=True):
        row["scores"][judge_name] = {"sum": score.logprob_sum, "tokens": score.tokens, "end": score.end_logprob,
                                     "mean": score.mean_logprob, "mean-with-end": score.mean_logprob_with_end}
    return seconds


async def run_all(engine: Engine, tasks: list[FimTask], members: tuple[str, str],
                  limits: SandboxLimits) -> tuple[dict[str, dict[str, Row]], dict[str, list[float]]]:
    """Task by task: both members answer, then each scores both snippets (its prompt cached)."""
    rows: dict[str, dict[str, Row]] = {m: {} for m in members}
    judge_seconds: dict[str, list[float]] = {m: [] for m in members}
    print(f"# {', '.join(members)} answer, then each scores both snippets; per task "
          f"{'/'.join(members)} passed (. or x) ...", flush=True)
    for task in tasks:
        request = request_for(engine, task.document, task.cursor)
        for member in members:
            rows[member][task.id] = await answer(engine, task, request, member, limits)
        pair = [rows[m][task.id] for m in members]
        for member in reversed(members):
            judge_seconds[member].append(await judge(engine, request, member, pair))
        print("".join("." if r["passed"] else "x" for r in pair), end=" ", flush=True)
    print()
    return rows, judge_seconds


def saved_rows(path: Path, tasks: list[FimTask], members: tuple[str, str]) -> dict[str, dict[str, Row]]:
    """The rows of an earlier run, by member and task; every task must be there for both."""
    rows: dict[str, dict[str, Row]] = {m: {} for m in members}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["member"] in rows:
            rows[row["member"]][row["task"]] = row
    missing = [t.id for t in tasks for m in members if t.id not in rows[m]]
    if missing:
        raise SystemExit(f"{path} lacks {len(missing)} answer(s) of these tasks, e.g. {missing[0]}: "
                         "run with the same --lines, --blocks, --seed and members")
    return rows


def cascade(cheap: Row, strong: Row, threshold: float) -> tuple[bool, bool]:
    """(passed, escalated) of the confidence cascade at `threshold`."""
    confident = cheap["text"].strip() and cheap["syntax"] is not False and \
        cheap["logprob"] is not None and cheap["logprob"] >= threshold
    return (cheap["passed"], False) if confident else (strong["passed"], True)


def usable(row: Row) -> bool:
    return bool(row["text"].strip()) and row["syntax"] is not False


def accepted(row: Row) -> bool:
    """Usable, and not failing the examples of the function it finishes (the `tests` check)."""
    return usable(row) and not row.get("examples_failed")


def agree(cheap: Row, strong: Row) -> bool:
    return "".join(cheap["text"].split()) == "".join(strong["text"].split())


def strongest_first(cheap: Row, strong: Row, _: float = 0.0) -> tuple[bool, bool]:
    """`confidence` with `order = "strongest"`: the strong member's snippet where the checks accept it, else the
    cheap one's; where neither is accepted, usable before broken, passing its examples before
    failing them, the strong one on a tie."""
    if accepted(strong) or not accepted(cheap):
        rank = [(not usable(r), bool(r.get("examples_failed"))) for r in (strong, cheap)]
        take_cheap = not accepted(strong) and rank[1] < rank[0]
    else:
        take_cheap = True
    return (cheap["passed"], True) if take_cheap else (strong["passed"], False)


def verified_cheap_first(cheap: Row, strong: Row, _: float = 0.0) -> tuple[bool, bool]:
    """`confidence` with `order = "cheapest-verified"`: the cheap member's snippet where it ran
    the function's examples and failed none (the strong member is then not asked); else as
    strongest first, both members asked."""
    if usable(cheap) and cheap.get("examples_failed") == 0:
        return cheap["passed"], True
    return strongest_first(cheap, strong)


def syntax_only(cheap: Row, strong: Row, _: float = 0.0) -> tuple[bool, bool]:
    """`confidence` before session 13: the strong member's usable snippet, else the cheap one's."""
    take_cheap = not usable(strong) and usable(cheap)
    return (cheap["passed"], True) if take_cheap else (strong["passed"], False)


def judged(judges: tuple[str, ...], signal: str) -> Rule:
    """Where both snippets are usable and differ, the cheap one when the judges' summed value of
    it beats the strong one's by more than `margin`; else as strongest first."""

    def rule(cheap: Row, strong: Row, margin: float) -> tuple[bool, bool]:
        if not (usable(cheap) and usable(strong)) or agree(cheap, strong):
            return strongest_first(cheap, strong)
        values = [_judged_value(row, judges, signal) for row in (cheap, strong)]
        if None in values:
            return strongest_first(cheap, strong)
        return (cheap["passed"], True) if values[0] > values[1] + margin else (strong["passed"], False)

    return rule


def _judged_value(row: Row, judges: tuple[str, ...], signal: str) -> float | None:
    values = [row["scores"].get(j, {}).get(signal) for j in judges]
    return None if None in values else sum(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cheap", default="qwen-small")
    parser.add_argument("--strong", default="qwen-large")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=Path, help="tabulate the answers an earlier run wrote with --out; run no model")
    args = parser.parse_args()
    print_provenance()
    tasks = fim_tasks(humaneval_programs(), args.lines, args.blocks, args.seed)
    if args.rows:
        rows, judge_seconds = saved_rows(args.rows, tasks, (args.cheap, args.strong)), {}
    else:
        settings = load_settings(None)
        engine = Engine(settings)
        limits = SandboxLimits(timeout_s=settings.sandbox.timeout_s, memory_mb=settings.sandbox.memory_mb)
        rows, judge_seconds = asyncio.run(run_all(engine, tasks, (args.cheap, args.strong), limits))
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for m in rows.values() for r in m.values()))
    tune, report = split_halves(tasks)
    cheap, strong = rows[args.cheap], rows[args.strong]
    print_thresholds(tune, report, cheap, strong)
    print_rules(tune, report, cheap, strong, args)
    for member in (args.cheap, args.strong):
        print(f"- {member} alone: tune {sum(rows[member][t.id]['passed'] for t in tune)}/{len(tune)}, "
              f"report {sum(rows[member][t.id]['passed'] for t in report)}/{len(report)}")
    print_agreement(tasks, cheap, strong)
    for member, seconds in judge_seconds.items():
        if seconds:
            print(f"- {member} scoring both snippets (its prompt cached): p50 {statistics.median(seconds):.3f} s, "
                  f"max {max(seconds):.3f} s")


def print_thresholds(tune: list[FimTask], report: list[FimTask], cheap: dict, strong: dict) -> None:
    def outcome(tasks: list[FimTask], t: float) -> tuple[int, int]:
        results = [cascade(cheap[x.id], strong[x.id], t) for x in tasks]
        return sum(p for p, _ in results), sum(e for _, e in results)

    chosen = max(THRESHOLDS, key=lambda t: (outcome(tune, t)[0], -outcome(tune, t)[1]))
    print("| threshold | tune pass | tune escalated | report pass | report escalated |")
    print("|---|---|---|---|---|")
    for t in THRESHOLDS:
        mark = " (chosen)" if t == chosen else ""
        (tp, te), (rp, re_) = outcome(tune, t), outcome(report, t)
        print(f"| {t:g}{mark} | {tp}/{len(tune)} | {te} | {rp}/{len(report)} | {re_} |")


def print_rules(tune: list[FimTask], report: list[FimTask], cheap: dict, strong: dict,
                args: argparse.Namespace) -> None:
    """Each selection rule: its outcome at margin 0 (plain argmax) and at the margin chosen on
    the tune half, reported on both halves."""
    rules: list[tuple[str, Rule, list[float]]] = [
        ("confidence, strongest first", strongest_first, [0.0]),
        ("confidence, syntax only (no examples)", syntax_only, [0.0]),
        ("confidence, cheapest first where verified (shipped)", verified_cheap_first, [0.0])]
    for who, judges in (("strongest", (args.strong,)), ("all", (args.strong, args.cheap))):
        for signal in SIGNALS:
            rules.append((f"judge={who} judge_by={signal}", judged(judges, signal), MARGINS))

    def outcome(rule: Rule, tasks: list[FimTask], margin: float) -> tuple[int, int]:
        results = [rule(cheap[t.id], strong[t.id], margin) for t in tasks]
        return sum(p for p, _ in results), sum(c for _, c in results)

    print()
    print("| rule | margin | tune pass | tune cheap taken | report pass | report cheap taken |")
    print("|---|---|---|---|---|---|")
    for name, rule, margins in rules:
        chosen = max(margins, key=lambda m: (outcome(rule, tune, m)[0], -outcome(rule, tune, m)[1], -m))
        for margin in dict.fromkeys([0.0, chosen]):
            mark = " (chosen)" if margin == chosen and len(margins) > 1 else ""
            (tp, tc), (rp, rc) = outcome(rule, tune, margin), outcome(rule, report, margin)
            print(f"| {name} | {margin:g}{mark} | {tp}/{len(tune)} | {tc} | {rp}/{len(report)} | {rc} |")


def print_agreement(tasks: list[FimTask], cheap: dict, strong: dict) -> None:
    """How often the members agree, and what passes where they do and where they do not."""
    agreeing = [t for t in tasks if agree(cheap[t.id], strong[t.id]) and usable(strong[t.id])]
    apart = [t for t in tasks if t not in agreeing and usable(cheap[t.id]) and usable(strong[t.id])]
    print(f"- agreement: {len(agreeing)}/{len(tasks)} tasks with equal usable snippets, "
          f"{sum(strong[t.id]['passed'] for t in agreeing)} of them pass")
    print(f"- both usable and different: {len(apart)} tasks; strong passes {sum(strong[t.id]['passed'] for t in apart)}, "
          f"cheap {sum(cheap[t.id]['passed'] for t in apart)}, either "
          f"{sum(strong[t.id]['passed'] or cheap[t.id]['passed'] for t in apart)} (a perfect judge)")


if __name__ == "__main__":
    main()
