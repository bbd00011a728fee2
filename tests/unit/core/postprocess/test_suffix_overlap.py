from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap


def test_output_that_runs_on_into_the_suffix_is_cut():
    suffix = "\n\ndef main():\n    pass\n"
    text = "return a + b\n\ndef main():\n    pass\n"
    assert remove_suffix_overlap(text, suffix, "def f(a, b):\n    ") == "return a + b\n\n"


def test_a_closing_bracket_at_another_indentation_is_the_snippet_s_own():
    text = "if (x) {\n    y();\n  }"
    assert remove_suffix_overlap(text, "\n}\n", "function f() {\n  ") == text


def test_nothing_changes_without_overlap():
    assert remove_suffix_overlap("total += 1", "\nreturn total\n") == "total += 1"


def test_in_front_of_code_the_first_line_is_compared_with_that_code():
    prefix, suffix = "def f(x):\n", "    return x\n"
    assert remove_suffix_overlap("    return x\n", suffix, prefix) == ""
    assert remove_suffix_overlap("    x += 1\n    return x\n", suffix, prefix) == "    x += 1\n"


def test_the_first_line_that_continues_the_cursor_line_is_not_compared():
    assert remove_suffix_overlap("x\nx\nmore", "\nx\n", "y = ") == "x\n"


def test_a_closing_bracket_line_is_an_anchor_where_the_code_after_it_follows_too():
    prefix, suffix = "def f():\n    values = [\n", "    ]\n    return values\n"
    text = "        1,\n        2,\n    ]\n    return values"
    assert remove_suffix_overlap(text, suffix, prefix) == "        1,\n        2,\n"
    assert remove_suffix_overlap("        1,\n    ]", suffix, prefix) == "        1,\n"
    nested = "        [1,\n    ]]\n"
    assert remove_suffix_overlap(nested, suffix, prefix) == nested
