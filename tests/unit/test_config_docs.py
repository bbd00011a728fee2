"""docs/configuration.md is generated from the settings: fail when it is out of date."""

import contextlib
import io
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_page_matches_the_code():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "scripts" / "config_docs.py"), run_name="__main__")
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert page == out.getvalue(), "run: python scripts/config_docs.py > docs/configuration.md"
