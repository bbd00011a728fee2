"""The host side of the batch harness: only lines signed with the run's nonce are verdicts."""

from __future__ import annotations

from codequorum.testing.python_runner import _parse

LINE = '{"candidate": %d, "results": [%s, %s], "error": null, "values": [null, null]}'


def test_lines_without_the_runs_nonce_are_ignored() -> None:
    stdout = "\n".join([LINE % (0, "true", "true"), "abc " + LINE % (0, "true", "true"),
                        "n0nce " + LINE % (0, "false", "true"), "n0nce" + LINE % (1, "true", "true")])
    runs = _parse(stdout, "n0nce", 2, 2, "boom")
    assert runs[0].results == (False, True)
    assert runs[1].results == (False, False) and "did not report: boom" in (runs[1].error or "")


def test_the_first_signed_line_per_candidate_counts() -> None:
    stdout = "\n".join(["k " + LINE % (0, "false", "false"), "k " + LINE % (0, "true", "true"),
                        "k " + LINE % (7, "true", "true"), "k {not json"])
    runs = _parse(stdout, "k", 1, 2, "")
    assert runs[0].results == (False, False)
