from codequorum.core.postprocess.closing_overlap import remove_closing_overlap


def test_brackets_the_editor_closed_are_not_typed_twice():
    assert remove_closing_overlap("x, y)", ")") == "x, y"
    assert remove_closing_overlap("values))", "))\n") == "values"
    assert remove_closing_overlap('a")', '")') == "a"


def test_brackets_the_snippet_opened_itself_are_kept():
    assert remove_closing_overlap("bar()", ")\n") == "bar()"
    assert remove_closing_overlap("[x for x in y]", "]\n") == "[x for x in y]"


def test_a_snippet_that_already_stops_short_is_left_alone():
    assert remove_closing_overlap("x", ")\n") == "x"


def test_text_the_line_already_has_after_the_cursor_is_dropped():
    assert remove_closing_overlap("a, b)", ", b)\n") == "a"


def test_only_one_line_snippets_are_trimmed():
    assert remove_closing_overlap("x)\ny", ")") == "x)\ny"
