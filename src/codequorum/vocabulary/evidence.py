"""What is known about one candidate, as one typed record: filled by the checks
(`plugins/checks/`), the probe calls and the generated tests (`testing/`), read by ranking and
the strategies. `to_json` / `from_json` give the `checks` object of `--json` output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ClusterBasis = Literal["behaviour", "probes", "code"]


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, whatever its name

    passed: int
    failed: int

    @property
    def all_passed(self) -> bool:
        return self.failed == 0 and self.passed > 0

    def to_json(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed}

    @classmethod
    def from_json(cls, data: Any) -> TestOutcome | None:
        return cls(int(data["passed"]), int(data["failed"])) if isinstance(data, dict) else None


@dataclass(frozen=True)
class SyntaxDetail:
    """The parse in place: errors the candidate adds, brackets balanced, the construct complete."""

    new_errors: int
    balanced: bool
    complete: bool


@dataclass(frozen=True)
class TestRun:
    """Each visible test case's result, in order (the candidate's behaviour), and the run's error."""

    __test__ = False

    results: tuple[bool, ...]
    cases: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Evidence:
    syntax: bool | None = None  # None: no grammar for the language, or not checked
    syntax_detail: SyntaxDetail | None = None
    tests: TestOutcome | None = None  # the visible tests (and docstring examples), where they ran
    test_run: TestRun | None = None
    probed: bool = False  # probe calls ran on it (`testing/probes.py`)
    probes: tuple[str, ...] | None = None  # its values on them; None where they tell nothing
    generated_tests: TestOutcome | None = None  # asserts a member wrote for the task
    dual_agreement: float | None = None  # CodeT's share on the generated tests (`ranking/dual_agreement.py`)
    other: dict[str, Any] = field(default_factory=dict)  # a third-party check's evidence, by its name

    @property
    def cluster_basis(self) -> ClusterBasis:
        """What the candidate is clustered on: "behaviour" when its tests ran cleanly, else
        "probes" when probe calls returned values, else "code"."""
        if self.test_run is not None and not self.test_run.error:
            return "behaviour"
        return "probes" if self.probes else "code"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.other, "syntax": self.syntax,
                                "tests": self.tests.to_json() if self.tests else None}
        if self.syntax_detail is not None:
            detail = self.syntax_detail
            data["syntax_detail"] = {"new_errors": detail.new_errors, "balanced": detail.balanced,
                                     "complete": detail.complete}
        if self.test_run is not None:
            data["tests_detail"] = {"cases": list(self.test_run.cases), "results": list(self.test_run.results),
                                    "error": self.test_run.error}
        if self.probed:
            data["probes"] = list(self.probes) if self.probes is not None else None
        if self.generated_tests is not None:
            data["generated_tests"] = self.generated_tests.to_json()
        if self.dual_agreement is not None:
            data["dual_agreement"] = self.dual_agreement
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        known = {"syntax", "syntax_detail", "tests", "tests_detail", "probes", "generated_tests",
                 "dual_agreement"}
        detail = data.get("syntax_detail")
        run = data.get("tests_detail")
        probes = data.get("probes")
        return cls(
            syntax=data.get("syntax"),
            syntax_detail=SyntaxDetail(**detail) if isinstance(detail, dict) else None,
            tests=TestOutcome.from_json(data.get("tests")),
            test_run=TestRun(tuple(run.get("results") or ()), tuple(run.get("cases") or ()), run.get("error"))
            if isinstance(run, dict) else None,
            probed="probes" in data,
            probes=tuple(probes) if probes is not None else None,
            generated_tests=TestOutcome.from_json(data.get("generated_tests")),
            dual_agreement=data.get("dual_agreement"),
            other={k: v for k, v in data.items() if k not in known},
        )
