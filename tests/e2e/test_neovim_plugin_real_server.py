"""The Neovim plugin (editors/neovim) in a real headless Neovim, driving the real
`codequorum serve` with the real Qwen2.5-Coder-0.5B: a suggestion is requested on entering
insert mode, drawn as virtual text, accepted with <Tab>, and reported to the server."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

PLUGIN = ROOT / "editors" / "neovim"
SPEC = PLUGIN / "tests" / "inline_spec.lua"
CODEQUORUM = Path(sys.executable).with_name("codequorum")
MEAN_BODY_LINE = 6  # 1-based: the empty body of `mean` in examples/stats.py
MAX_TOKENS = 24

CONFIG = """
[members.qwen-large]
enabled = false
[server]
debounce_ms = 0
inline_deadline_s = 150
feedback_db = "{feedback_db}"
"""
# Sent by the plugin as initializationOptions: the server runs qwen-small alone only if the
# plugin's settings reach it.
SETTINGS = {"members": {"smollm2": {"enabled": False}},
            "server": {"inline_max_tokens": MAX_TOKENS, "line_max_tokens": MAX_TOKENS}}


def run_neovim_spec(tmp_path: Path) -> tuple[dict, int, str]:
    """Run the Lua spec; returns what it wrote, the server's pid and the server's log."""
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.fail("nvim is not installed: run `bash scripts/system-deps.sh` (installs neovim)")
    source = tmp_path / "stats.py"
    shutil.copy(ROOT / "examples" / "stats.py", source)
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG.format(feedback_db=tmp_path / "feedback.sqlite3"))
    pid_file, server_log, output = tmp_path / "server.pid", tmp_path / "server.log", tmp_path / "out.json"
    # The shell records its pid, then becomes the server: that pid is the server's.
    cmd = ["sh", "-c", f'echo $$ > "{pid_file}"; exec "$@" 2>"{server_log}"', "sh",
           str(CODEQUORUM), "serve", "--config", str(config)]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"file": str(source), "line": MEAN_BODY_LINE, "cmd": cmd,
                                "settings": SETTINGS, "output": str(output)}))
    env = {**os.environ, "CODEQUORUM_SPEC": str(spec)}
    neovim = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "--cmd", f"set runtimepath^={PLUGIN}",
         "-c", f"luafile {SPEC}"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240)
    log = server_log.read_text() if server_log.exists() else ""
    assert output.exists(), f"nvim exited {neovim.returncode} without results:\n{neovim.stderr}\n{log}"
    results = json.loads(output.read_text())
    assert results.get("error") is None and neovim.returncode == 0, f"{results}\n{neovim.stderr}\n{log}"
    return results, int(pid_file.read_text()), log


def exited(pid: int, timeout: float) -> bool:
    """Whether the process is gone (or a zombie) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_suggestion_is_shown_accepted_and_reported(installed_models, tmp_path):
    results, server_pid, log = run_neovim_spec(tmp_path)

    shown = results["shown"]
    assert "values" in shown and "def median" not in shown, shown
    assert results["hint"] == "qwen-small"
    buffer = results["buffer"]
    assert buffer[MEAN_BODY_LINE - 1] == "    " + shown.split("\n")[0]
    compile("\n".join(buffer), "stats.py", "exec")

    stats = results["stats"]
    [call] = stats["last_run"]["calls"]
    assert call["member"] == "qwen-small" and 0 < call["tokens"] <= MAX_TOKENS
    assert stats["feedback_events"] == 2 and stats["unknown_feedback"] == 0
    rows = sqlite3.connect(tmp_path / "feedback.sqlite3").execute(
        "SELECT event, member, kind, text FROM feedback ORDER BY id").fetchall()
    assert rows == [("shown", "qwen-small", "inline", shown), ("accepted", "qwen-small", "inline", shown)]

    assert exited(server_pid, timeout=10), f"the server outlived Neovim:\n{log}"
