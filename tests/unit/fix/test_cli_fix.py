"""`codequorum fix` from the command line: the project root the user means (real sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codequorum.cli import app
from codequorum.sandbox import bubblewrap_available

needs_bwrap = pytest.mark.skipif(not bubblewrap_available(), reason="needs a working bubblewrap")


@needs_bwrap
def test_without_a_marker_the_working_directory_is_the_root(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "src" / "textstats.py").write_text("def words(text):\n    return len(text.split())\n")
    (tmp_path / "tests" / "test_textstats.py").write_text(
        "from textstats import words\n\n\ndef test_words():\n    assert words('a b') == 2\n")
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["fix", "src/textstats.py", "--json", "--test",
                                    "python3 -m pytest -q -p no:cacheprovider tests"])
    report = json.loads(done.stdout)
    assert (done.exit_code, report["outcome"]) == (0, "already-passing"), report["baseline"]
    assert report["project"] == str(tmp_path)
