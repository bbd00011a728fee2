"""The typed evidence record: its JSON (the `checks` of `--json`), and the bench records on
disk read back into it."""

import gzip
import json
from pathlib import Path

from codequorum.ranking.clusters import cluster_basis
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import Evidence, SyntaxDetail, TestOutcome, TestRun
from codequorum.vocabulary.records import Record, stored_evidence
from codequorum.vocabulary.result import Result, Trace

GREEDY = Path(__file__).parents[2] / "data" / "humaneval-greedy.jsonl.gz"


def test_the_json_keeps_the_keys_the_checks_wrote():
    evidence = Evidence(syntax=True, syntax_detail=SyntaxDetail(0, True, True), tests=TestOutcome(2, 1),
                        test_run=TestRun((True, True, False), ("a", "b", "c")), probed=True, probes=("3", "5"),
                        generated_tests=TestOutcome(4, 2), dual_agreement=0.5, other={"lint": {"warnings": 2}})
    assert evidence.to_json() == {
        "syntax": True, "syntax_detail": {"new_errors": 0, "balanced": True, "complete": True},
        "tests": {"passed": 2, "failed": 1},
        "tests_detail": {"cases": ["a", "b", "c"], "results": [True, True, False], "error": None},
        "probes": ["3", "5"], "generated_tests": {"passed": 4, "failed": 2}, "dual_agreement": 0.5,
        "lint": {"warnings": 2},
    }
    assert Evidence.from_json(json.loads(json.dumps(evidence.to_json()))) == evidence


def test_an_unchecked_candidate_says_so_in_its_json():
    assert Evidence().to_json() == {"syntax": None, "tests": None}
    assert Evidence.from_json({"syntax": None, "tests": None}) == Evidence()
    probed_for_nothing = Evidence(probed=True)
    assert probed_for_nothing.to_json()["probes"] is None
    assert Evidence.from_json(probed_for_nothing.to_json()) == probed_for_nothing


def test_the_result_json_carries_each_candidates_evidence():
    candidate = Candidate("m", "x", "chat", evidence=Evidence(syntax=False))
    [row] = Result("x", "single", [candidate], Trace("single")).to_json_dict()["candidates"]
    assert row["checks"] == {"syntax": False, "tests": None}


def test_the_cluster_basis_follows_the_strongest_evidence():
    assert Evidence().cluster_basis == "code"
    assert Evidence(probed=True, probes=("1",)).cluster_basis == "probes"
    assert Evidence(probed=True, probes=("1",), test_run=TestRun((True,))).cluster_basis == "behaviour"
    assert Evidence(probes=("1",), test_run=TestRun((True,), error="timeout")).cluster_basis == "probes"
    assert cluster_basis(Candidate("m", "x", "chat", evidence=Evidence(test_run=TestRun((False,))))) == "behaviour"


def test_the_stored_greedy_collection_reads_back_as_evidence():
    with gzip.open(GREEDY, "rt", encoding="utf-8") as handle:
        records = [Record(**json.loads(line)) for line in handle]
    assert len(records) > 400
    for record in records:
        evidence = record.evidence()
        assert stored_evidence(evidence) == {k: record.checks.get(k) for k in ("syntax", "visible", "visible_results")}
        candidate = Candidate(record.member, record.text, record.prompt_kind, evidence=evidence)
        assert (candidate.tests is None) == (record.checks.get("visible") is None)
        assert cluster_basis(candidate) == ("behaviour" if record.checks.get("visible_results") is not None else "code")
    assert any(r.evidence().tests is not None for r in records)
    assert {r.prompt_kind for r in records} <= {"chat", "fim"}
