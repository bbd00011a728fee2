from codequorum.core.postprocess.line_scope import keep_first_line


def test_only_the_first_line_is_kept():
    assert keep_first_line("sum(values)  \n    return 0") == "sum(values)"
    assert keep_first_line("\nlater") == ""
