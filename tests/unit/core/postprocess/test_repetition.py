from codequorum.core.postprocess.repetition import cut_repetition

EXAMPLE = "    >>> same('ab', 'ba')\n    True\n"


def test_a_repeated_pair_of_lines_is_cut_after_its_first_time():
    assert cut_repetition("    x = 1\n" + EXAMPLE * 3) == "    x = 1\n" + EXAMPLE


def test_a_run_still_forming_is_left_alone():
    assert cut_repetition(EXAMPLE * 2) == EXAMPLE * 2


def test_one_line_must_repeat_six_times():
    five = "print()\n" * 5
    assert cut_repetition(five) == five
    assert cut_repetition("print()\n" * 7 + "x = 1\n") == "print()\n"


def test_a_few_equal_rows_are_code_not_a_loop():
    matrix = "grid = [\n    [0, 0, 0],\n    [0, 0, 0],\n    [0, 0, 0],\n]\n"
    assert cut_repetition(matrix) == matrix


def test_nested_closing_brackets_differ_by_their_indentation():
    closers = "".join(" " * (2 * depth) + "}\n" for depth in range(6, -1, -1))
    assert cut_repetition(closers) == closers


def test_blank_lines_are_not_a_unit():
    text = "a = 1\n\n\n\n\n\n\n\nb = 2\n"
    assert cut_repetition(text) == text


def test_an_unfinished_last_line_does_not_count():
    text = "print()\n" * 5 + "print("
    assert cut_repetition(text) == text


def test_the_first_line_is_read_after_the_cursor():
    text = ">>> same('ab', 'ba')\n    True\n" + EXAMPLE * 2
    assert cut_repetition(text, 'def same(a, b):\n    """\n    ') == ">>> same('ab', 'ba')\n    True\n"


def test_a_run_begun_before_the_cursor_leaves_nothing():
    prefix = 'def same(a, b):\n    """\n' + EXAMPLE * 2
    assert cut_repetition(EXAMPLE + EXAMPLE, prefix) == ""


def test_a_run_wholly_before_the_cursor_is_the_document_s_business():
    prefix = "print()\n" * 8
    assert cut_repetition("x = 1\ny = 2\n", prefix) == "x = 1\ny = 2\n"
