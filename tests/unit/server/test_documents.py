import pytest
from lsprotocol import types
from pygls.workspace import Workspace

from codequorum.server.documents import DocumentError, cursor_at, offset_at, position_of

TEXT = "résumé = 1\n😀 = 2\n"


@pytest.fixture
def workspace() -> Workspace:
    space = Workspace(None)
    space.put_text_document(types.TextDocumentItem("file:///a.py", "python", 1, TEXT))
    return space


def test_a_position_in_utf16_units_becomes_an_offset(workspace):
    cursor = cursor_at(workspace, "file:///a.py", types.Position(1, 2))  # after the emoji (2 units)
    assert cursor.prefix == "résumé = 1\n😀" and cursor.suffix == " = 2\n"


def test_the_line_after_the_last_newline_is_the_end_of_the_document(workspace):
    assert offset_at(workspace.get_text_document("file:///a.py"), types.Position(2, 0)) == len(TEXT)


def test_a_character_past_the_end_of_the_line_means_its_end(workspace):
    document = workspace.get_text_document("file:///a.py")
    assert offset_at(document, types.Position(0, 99)) == len("résumé = 1")


def test_a_line_outside_the_document_is_an_error(workspace):
    with pytest.raises(DocumentError, match="line 7 is outside file:///a.py"):
        cursor_at(workspace, "file:///a.py", types.Position(7, 0))


def test_a_document_that_is_not_open_is_an_error(workspace):
    with pytest.raises(DocumentError, match="is not open"):
        cursor_at(workspace, "file:///b.py", types.Position(0, 0))


def test_position_of_an_offset_in_a_snapshot(workspace):
    document = workspace.get_text_document("file:///a.py")
    assert position_of(document, TEXT, TEXT.index(" = 2")) == types.Position(1, 2)
