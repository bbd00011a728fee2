"""Encodings and line endings survive a fix; what cannot be kept is refused."""

from __future__ import annotations

import pytest

from codequorum.fix.source import SourceFormat, decode_source
from codequorum.vocabulary.errors import CodequorumError


def test_crlf_is_read_as_lf_and_written_back_as_crlf() -> None:
    text, form = decode_source(b"def f():\r\n    return 1\r\n", "m.py")
    assert text == "def f():\n    return 1\n" and form.newline == "\r\n"
    assert form.encode("def f():\n    return 2\n", "m.py") == b"def f():\r\n    return 2\r\n"


def test_a_declared_latin1_file_stays_latin1() -> None:
    data = "# -*- coding: latin-1 -*-\nNAME = 'café'\n".encode("latin-1")
    text, form = decode_source(data, "m.py")
    assert "café" in text and form.encoding in ("iso-8859-1", "latin-1")
    assert form.encode(text.replace("café", "thé"), "m.py") == data.replace("caf\xe9".encode("latin-1"), "th\xe9".encode("latin-1"))


def test_a_byte_order_mark_is_kept() -> None:
    text, form = decode_source("\ufeffx = 1\n".encode("utf-8"), "m.py")
    assert text == "x = 1\n" and form.encode(text, "m.py").startswith(b"\xef\xbb\xbf")


def test_undeclared_latin1_is_refused_with_what_to_do() -> None:
    with pytest.raises(CodequorumError, match="coding"):
        decode_source("x = 'café'\n".encode("latin-1"), "m.py")


def test_a_fix_the_encoding_cannot_hold_is_refused() -> None:
    with pytest.raises(CodequorumError, match="cannot hold"):
        SourceFormat("iso-8859-1").encode("x = '→'\n", "m.py")
