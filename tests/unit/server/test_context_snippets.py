from codequorum.server.context_snippets import OpenDocument, relevant_snippets

GEOMETRY = OpenDocument("geometry.py", "def area(width, height):\n    return width * height\n")
NOISE = OpenDocument("log.py", "import logging\nlogger = logging.getLogger('x')\n")
PREFIX = "from geometry import area\n\nwidth, height = 3, 4\nsurface = "


def test_the_document_sharing_identifiers_with_the_cursor_is_chosen():
    [snippet] = relevant_snippets([NOISE, GEOMETRY], PREFIX, "\n", budget_chars=500)
    assert snippet.path == "geometry.py" and "return width * height" in snippet.text


def test_nothing_beyond_the_budget():
    assert relevant_snippets([GEOMETRY], PREFIX, "\n", budget_chars=10) == ()
    assert relevant_snippets([GEOMETRY], PREFIX, "\n", budget_chars=0) == ()


def test_the_choice_does_not_change_while_typing_on_the_cursor_line():
    documents = [NOISE, GEOMETRY, OpenDocument("sur.py", "surface_total = sum(surfaces)\n")]
    choices = {relevant_snippets(documents, PREFIX + typed, "\n", 500) for typed in ("", "a", "ar", "surf")}
    assert len(choices) == 1


def test_snippets_come_in_document_order_whatever_their_score():
    first = OpenDocument("a.py", "width = 1\n")
    second = OpenDocument("b.py", "width = height = area = 2\n")
    paths = [s.path for s in relevant_snippets([second, first], PREFIX, "\n", 500)]
    assert paths == ["a.py", "b.py"]
