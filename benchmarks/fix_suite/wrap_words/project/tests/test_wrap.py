from wrapping.wrap import wrap


def test_lines_fill_up_to_the_width():
    assert wrap("a bb ccc dd", 4) == ["a bb", "ccc", "dd"]


def test_short_text_is_one_line():
    assert wrap("one two", 7) == ["one two"]


def test_empty_text_has_no_lines():
    assert wrap("   ", 5) == []
