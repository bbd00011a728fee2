import pytest

from codequorum.server.instructions import (
    InstructionError,
    indent_code,
    site_from_line,
    site_from_selection,
)

TEXT = (
    "class Shapes:\n"
    "    # Return the area of a circle\n"
    "    # of radius r.\n"
    "\n"
    "    def other(self):\n"
    "        pass\n"
)


def test_the_comment_block_around_the_line_is_the_instruction():
    site = site_from_line(TEXT, 2, "#")
    assert site.instruction == "Return the area of a circle\nof radius r."
    assert site.indent == "    "
    assert TEXT[site.insert_at:].startswith("\n    def other")


def test_a_line_that_is_not_a_comment_is_refused_with_what_to_do():
    with pytest.raises(InstructionError, match="not a comment"):
        site_from_line(TEXT, 4, "#")
    with pytest.raises(InstructionError, match="outside"):
        site_from_line(TEXT, 99, "#")


def test_a_selection_is_the_instruction_and_the_code_goes_after_its_last_line():
    start = TEXT.index("# Return")
    end = TEXT.index("radius r.") + len("radius")
    site = site_from_selection(TEXT, start, end, "#")
    assert site.instruction == "Return the area of a circle\nof radius"
    assert TEXT[site.insert_at:].startswith("\n    def other")


def test_an_empty_selection_is_refused():
    with pytest.raises(InstructionError, match="empty"):
        blank = TEXT.index("\n\n")
        site_from_selection(TEXT, blank, blank + 2, "#")


def test_a_comment_on_the_last_line_inserts_at_the_end():
    site = site_from_line("x = 1\n// make y", 1, "//")
    assert site.insert_at == len("x = 1\n// make y") and site.instruction == "make y"


def test_generated_code_is_reindented_to_the_instruction():
    code = "def area(r):\n    return 3.14 * r * r\n"
    assert indent_code(code, "    ") == "    def area(r):\n        return 3.14 * r * r\n"
    assert indent_code("        x = 1\n", "") == "x = 1\n"
