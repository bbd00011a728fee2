"""Run a test suite against many candidates in one sandbox start, each in its own process."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from codequorum.sandbox import Sandbox, SandboxLimits
from codequorum.testing.python_tests import TestSuite

PYTHON = "/usr/bin/python3"  # uid 65534 cannot read the project's virtualenv interpreter
_STARTUP_S = 2.0
LOAD_ERROR = "load: "  # the harness's error when the program itself raised before any test ran


@dataclass(frozen=True)
class CandidateRun:
    results: tuple[bool, ...]  # one per test case, in suite order
    error: str | None = None
    values: tuple[str | None, ...] = ()  # per case: a probe's value ("raises E"); None otherwise

    @property
    def passed(self) -> int:
        return sum(self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


async def run_suite(
    programs: Sequence[str], suite: TestSuite, limits: SandboxLimits, per_candidate_s: float
) -> list[CandidateRun]:
    """Each program (candidate code + suite setup) against every case of the suite."""
    job = {
        "candidates": [f"{program}\n\n{suite.setup}\n" for program in programs],
        "tests": [case.to_json() for case in suite.cases],
        "timeout_s": per_candidate_s,
    }
    harness = resources.files("codequorum.testing").joinpath("python_harness.py").read_text()
    sandbox = Sandbox(_limits_for(limits, len(programs), per_candidate_s))
    nonce = secrets.token_hex(16)  # on every result line; no candidate can learn it
    outcome = await sandbox.run_async(
        [PYTHON, "-I", "harness.py"], files={"harness.py": harness, "job.json": json.dumps(job)},
        stdin=f"{nonce}\n".encode(),
    )
    return _parse(outcome.stdout, nonce, len(programs), len(suite.cases), outcome.stderr)


def _limits_for(base: SandboxLimits, count: int, per_candidate_s: float) -> SandboxLimits:
    total = _STARTUP_S + count * (per_candidate_s + 0.5)
    return dataclasses.replace(base, timeout_s=total, cpu_s=int(total) + 1)


def _parse(stdout: str, nonce: str, count: int, cases: int, stderr: str) -> list[CandidateRun]:
    """The harness's lines (those that carry the nonce), the first one per candidate."""
    missing = CandidateRun((False,) * cases, "harness did not report: " + stderr[-300:])
    runs: list[CandidateRun | None] = [None] * count
    for line in stdout.splitlines():
        signed, _, body = line.partition(" ")
        if signed != nonce:
            continue  # anything else on stdout is not the harness speaking
        try:
            report = json.loads(body)
            index = report["candidate"]
            values = tuple(report.get("values") or (None,) * cases)
            if runs[index] is None:
                runs[index] = CandidateRun(tuple(report["results"]), report["error"], values)
        except (ValueError, KeyError, IndexError, TypeError):
            continue
    return [run if run is not None else missing for run in runs]
