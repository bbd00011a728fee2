from codequorum.core.postprocess.indentation import limit_scope_by_indentation


def test_completion_stops_where_it_leaves_the_cursor_block():
    prefix = "def f(x):\n    "
    text = "y = x + 1\n    return y\ndef g():\n    pass"
    assert limit_scope_by_indentation(text, prefix, "\n\nprint(f(1))\n") == "y = x + 1\n    return y"


def test_a_closing_brace_line_is_kept():
    prefix = "function f() {\n  "
    text = "return 1;\n}\nfunction g() {}"
    assert limit_scope_by_indentation(text, prefix, "\n\nf();\n") == "return 1;\n}"


def test_at_end_of_file_more_code_may_follow():
    text = "pass\ndef g():\n    pass"
    assert limit_scope_by_indentation(text, "def f():\n    ", "") == text
