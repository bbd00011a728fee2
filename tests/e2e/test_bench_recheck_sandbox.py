"""Stored visible evidence re-run by today's checks, in the real sandbox (no models)."""

from __future__ import annotations

import pytest

from codequorum.bench.problems import Problem
from codequorum.bench.recheck import recheck
from codequorum.config import settings_from_dict
from codequorum.vocabulary.records import Record

pytestmark = pytest.mark.e2e

# an informal example, the kind the checks did not read when most of HumanEval was collected
PROBLEM = Problem("p1", 'def add(a, b):\n    """Add them.\n    add(1, 2) => 3\n    """\n',
                  "def check(f):\n    pass\n", "add")
STALE = {"syntax": True, "visible": None, "visible_results": None, "prompt_kind": "chat"}


def record(member, text, error=None):
    return Record("p1", member, "k1-t0", 0, text, 10, 1.0, 0.1, -0.2, dict(STALE), passed=True, error=error)


async def test_stale_visible_evidence_is_re_run_with_the_current_checks():
    right = record("a", "def add(a, b):\n    return a + b\n")
    wrong = record("b", "def add(a, b):\n    return a - b\n")
    failed = record("c", "", error="member down")
    other = Record("p9", "a", "k1-t0", 0, "x = 1\n", 1, 1.0, 0.1, None, dict(STALE), passed=False)
    settings = settings_from_dict({"include_default_members": False}, "test")
    fresh = await recheck(settings, [right, wrong, failed, other], [PROBLEM])
    by_member = {(r.problem, r.member): r for r in fresh}
    assert by_member[("p1", "a")].checks["visible"] == {"passed": 1, "failed": 0}
    assert by_member[("p1", "b")].checks["visible"] == {"passed": 0, "failed": 1}
    assert by_member[("p1", "a")].checks["prompt_kind"] == "chat" and by_member[("p1", "a")].passed
    assert by_member[("p1", "c")] is failed and by_member[("p9", "a")] is other  # left as they were
    assert right.checks["visible"] is None  # the stored records are not changed
