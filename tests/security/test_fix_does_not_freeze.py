"""One client's `codequorum.fix` of a big file does not freeze the other clients.

A real `codequorum serve --tcp`, the real sandbox, and a fake member on loopback that answers
with the corrected function. The file has 32,000 lines of similar functions (the diff of its
fix took 77 s of CPU on the event loop, and every other client waited; linking the Python
environment for the sandbox blocked it 1.5 s more). While the fix runs, a second client asks
for `codequorum.stats` again and again: each answer must come within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_sandbox_bwrap import real_bubblewrap
from tests.security.conftest import start_server
from tests.security.fake_members import FakeMember, says
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

__all__ = ["real_bubblewrap"]

BODY = "".join(f"def f{i}(x):\n    y = x + 1\n    return y\n\n" for i in range(8000))
CALC = "def add(a, b):\n    return a - b\n\n" + BODY


@pytest.fixture
def member() -> Iterator[FakeMember]:
    fake = FakeMember(answer=says("```python\ndef add(a, b):\n    return a + b\n```\n")).start()
    yield fake
    fake.stop()


def test_a_big_fix_leaves_other_clients_served(tmp_path: Path, member: FakeMember):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'calc'\n")
    (project / "calc.py").write_text(CALC)
    (project / "test_calc.py").write_text("from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    config = tmp_path / "codequorum.toml"
    config.write_text(f"""
include_default_members = false
[members.m]
backend = "openai"
base_url = "{member.base_url}"
model = "x"
[server]
warm_up = false
feedback = false
""")
    server = start_server(config)
    fixer, other = WireClient.connect(server.port, timeout=300), WireClient.connect(server.port)
    replies: list[dict] = []
    try:
        assert "result" in fixer.initialize(None, root=project.as_uri())
        assert "result" in other.initialize(None)
        uri = (project / "calc.py").as_uri()
        fixer.open(uri, CALC)
        worker = threading.Thread(target=lambda: replies.append(fixer.command("codequorum.fix", {"uri": uri})))
        worker.start()
        slowest = 0.0
        while worker.is_alive():
            started = time.monotonic()
            assert "requests" in other.command("codequorum.stats")["result"]
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
        worker.join()
    finally:
        fixer.close()
        other.close()
        server.stop()
    [reply] = replies
    result = reply["result"]
    assert result["outcome"] == "fixed", result
    assert result["attempts"][0]["lines_changed"] == 2
    assert slowest < 1.0, f"another client waited {slowest:.1f}s for codequorum.stats"
