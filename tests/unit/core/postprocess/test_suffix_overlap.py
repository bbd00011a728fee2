from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap


def test_output_that_runs_on_into_the_suffix_is_cut():
    suffix = "\n\ndef main():\n    pass\n"
    text = "return a + b\n\ndef main():\n    pass\n"
    assert remove_suffix_overlap(text, suffix) == "return a + b\n\n"


def test_closing_bracket_already_after_the_cursor_is_not_typed_twice():
    assert remove_suffix_overlap("x, y)", ")") == "x, y"
    assert remove_suffix_overlap('a")', '")') == "a"


def test_lone_closing_brackets_are_not_used_as_anchors():
    text = "if x:\n    y()\n}"
    assert remove_suffix_overlap(text, "\n}\n") == text


def test_nothing_changes_without_overlap():
    assert remove_suffix_overlap("total += 1", "\nreturn total\n") == "total += 1"
