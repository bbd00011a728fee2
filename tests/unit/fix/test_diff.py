from __future__ import annotations

from codequorum.fix.diff import lines_changed, unified_diff

BEFORE = "def add(a, b):\n    return a - b\n\n\ndef one():\n    return 1\n"
AFTER = "def add(a, b):\n    return a + b\n\n\ndef one():\n    return 1\n"


def test_unified_diff_has_git_style_labels_and_the_change():
    diff = unified_diff(BEFORE, AFTER, "calc/ops.py")
    assert diff.startswith("--- a/calc/ops.py\n+++ b/calc/ops.py\n@@")
    assert "-    return a - b\n+    return a + b\n" in diff


def test_no_change_no_diff():
    assert unified_diff(BEFORE, BEFORE, "x.py") == "" and lines_changed(BEFORE, BEFORE) == 0


def test_lines_changed_counts_removed_plus_added():
    assert lines_changed(BEFORE, AFTER) == 2
    assert lines_changed("a\n", "a\nb\nc\n") == 2
    assert lines_changed("a\nb\n", "a\n") == 1


def test_missing_final_newline_is_marked():
    assert "\\ No newline at end of file" in unified_diff("x = 1\n", "x = 2", "f.py")
