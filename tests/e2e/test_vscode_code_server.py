"""The VS Code extension in a real VS Code: code-server from npm (scripts/code-server-install.sh)
in headless Chromium, driven over the DevTools protocol like a user at the keyboard, with the
extension installed from the package that vsce builds (scripts/test-editors.sh) and the real
`codequorum serve` running the real Qwen2.5-Coder-0.5B. In a Python file, typing `return `
inside `mean` brings up the ghost text; Tab accepts it; the saved file holds it, the status bar
names the member that proposed it, and the server's feedback store has it shown then accepted.
Once with the server the extension starts (stdio, configured by the workspace's
codequorum.toml), once with a server the test runs on loopback TCP with a token, which the
extension reads from the file its settings name."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.code_server import (
    CONTROL,
    END,
    ENTER,
    TAB,
    CodeServer,
    Page,
    character_key,
    chromium_page,
    install_code_server,
    prepare_code_server,
    running_code_server,
    wait_for,
    wait_for_briefly,
)
from tests.e2e.conftest import ROOT
from tests.e2e.servers import tcp_server

pytestmark = pytest.mark.e2e

CODEQUORUM = Path(sys.executable).with_name("codequorum")
MEAN_BODY_LINE = 6  # 1-based: the empty body of `mean` in examples/stats.py, four spaces
TYPED = "return "
READY_TIMEOUT_S = 240  # code-server's start, the extension's activation, the models' warm-up
ERROR_GRACE_S = 20  # an error shown this long is the extension's answer, not a start-up race
SUGGESTION_TIMEOUT_S = 240  # a CPU model on a busy machine; typically a few seconds

SERVER_CONFIG = """
[members.qwen-large]
enabled = false
[members.smollm2]
enabled = false
[server]
debounce_ms = 0
inline_deadline_s = 150
inline_max_tokens = 24
line_max_tokens = 24
feedback_db = "{feedback_db}"
"""

# The user's settings.json: suggestions while typing come only as ghost text (the suggest
# widget would hide it, and Tab would take the widget's item); nothing that runs on start and
# talks to the network or asks for trust.
EDITOR_SETTINGS: dict[str, Any] = {
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "files.autoSave": "off",
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "extensions.ignoreRecommendations": True,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "git.enabled": False,
}

# What the page shows, read from VS Code's DOM (spaces are rendered as no-break spaces).
STATUS_ITEM = """(() => {
  const item = document.getElementById('codequorum.codequorum.codequorum.status');
  const label = item?.querySelector('.statusbar-item-label');
  return label ? {text: label.textContent.trim(), description: label.getAttribute('aria-label'),
                  icon: label.querySelector('.codicon')?.className ?? ''} : null;
})()"""
CURSOR = "document.getElementById('status.editor.selection')?.textContent.trim() ?? null"
ACTIVE_TAB = "document.querySelector('.tabs-container .tab.active .label-name')?.textContent ?? null"
# The quick input (Quick Open, Go to Line) open, focused, holding `value`.
QUICK_INPUT = """((value) => {
  const widget = document.querySelector('.quick-input-widget');
  const input = widget?.querySelector('.quick-input-box input');
  return !!input && getComputedStyle(widget).display !== 'none' && document.activeElement === input
    && input.value === value;
})"""
QUICK_OPEN_ROWS = "Array.from(document.querySelectorAll('.quick-input-list .monaco-list-row')).map(r => r.textContent)"
GHOST_TEXT = """(() => {
  const editor = document.querySelector('.editor-instance .monaco-editor');
  if (!editor) return null;
  const inline = Array.from(editor.querySelectorAll('.ghost-text-decoration')).map(e => e.textContent).join('');
  const more = Array.from(editor.querySelectorAll('.ghost-text .view-line')).map(e => e.textContent);
  return inline || more.length ? [inline, ...more].join('\\n').replaceAll('\\u00a0', ' ') : null;
})()"""


@dataclass
class Editor:
    """The page, the code-server behind it, and how to explain a failure."""
    page: Page
    code_server: CodeServer
    scratch: Path
    server_log: Path | None = None

    def explain(self) -> str:
        parts = []
        try:
            parts.append(f"screenshot: {self.page.screenshot(self.scratch / 'failure.png')}")
            parts.append(f"status bar: {self.page.evaluate(STATUS_ITEM)}")
        except Exception as error:  # the page itself may be what broke
            parts.append(f"no screenshot: {error}")
        if self.server_log is not None and self.server_log.exists():
            parts.append(f"--- codequorum serve ({self.server_log})\n{self.server_log.read_text()[-6000:]}")
        parts.append(self.code_server.logs())
        return "\n".join(parts)

    def wait(self, what: str, expression: str, timeout: float = 60) -> Any:
        return wait_for(what, lambda: self.page.evaluate(expression), timeout, self.explain)

    def open_quick_input(self, what: str, key: str, value: str, timeout: float = 60) -> None:
        """Ctrl+`key` until the quick input shows `value` (a key pressed while the workbench
        is still starting can be lost)."""
        def opened() -> bool:
            if self.page.evaluate(f"{QUICK_INPUT}({value!r})"):
                return True
            self.page.press(character_key(key), CONTROL)
            return bool(wait_for_briefly(lambda: self.page.evaluate(f"{QUICK_INPUT}({value!r})")))

        wait_for(what, opened, timeout, self.explain)


@dataclass
class Accepted:
    ghost_text: str
    status: dict[str, str]


@pytest.fixture(scope="module")
def code_server_executable() -> Path:
    return install_code_server()


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension's package, built as scripts/test-editors.sh builds it."""
    package = tmp_path_factory.mktemp("vsix") / "codequorum.vsix"
    result = subprocess.run(["bash", str(ROOT / "scripts" / "test-editors.sh"), "--package-only"], cwd=ROOT,
                            env={**os.environ, "CODEQUORUM_VSIX": str(package)}, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and package.is_file(), (result.stdout + result.stderr)[-6000:]
    return package


def code_server_env(home: Path) -> dict[str, str]:
    """code-server's environment, which the extension host and a stdio server inherit: no
    configuration or token from the machine running the tests, and no extension gallery (the
    default one is on the internet)."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("CODEQUORUM_CONFIG", "CODEQUORUM_TOKEN")}
    return {**env, "EXTENSIONS_GALLERY": "{}", "XDG_CONFIG_HOME": str(home / "config")}


def make_workspace(home: Path) -> tuple[Path, Path]:
    workspace = home / "workspace"
    workspace.mkdir()
    source = workspace / "stats.py"
    shutil.copy(ROOT / "examples" / "stats.py", source)
    return workspace, source


def write_server_config(path: Path, feedback_db: Path) -> Path:
    path.write_text(SERVER_CONFIG.format(feedback_db=feedback_db))
    return path


@contextmanager
def editor_session(executable: Path, vsix: Path, home: Path, workspace: Path, settings: dict[str, Any],
                   server_log: Path | None = None) -> Iterator[Editor]:
    env = code_server_env(home)
    prepared = prepare_code_server(executable, home, {**EDITOR_SETTINGS, **settings}, vsix, env)
    with running_code_server(prepared, workspace, env) as code_server, \
            chromium_page(home / "chromium", f"{code_server.url}/?folder={workspace}") as page:
        yield Editor(page, code_server, home, server_log)


def accept_a_suggestion(editor: Editor, ready_as: str) -> Accepted:
    """Open stats.py, wait for the extension to say `ready_as`, type in `mean`'s body until the
    ghost text shows, accept it with Tab and save."""
    page = editor.page
    editor.wait("VS Code's workbench", "!!document.querySelector('.monaco-workbench .part.editor')", timeout=120)
    editor.open_quick_input("Quick Open (Ctrl+P)", "p", "")
    page.type("stats.py")
    editor.wait("stats.py in Quick Open", f"{QUICK_OPEN_ROWS}.some(row => row.includes('stats.py'))")
    page.press(ENTER)
    editor.wait("stats.py in the editor", f"{ACTIVE_TAB} === 'stats.py'")

    erring_since: list[float] = []  # when the error shown now first appeared

    def ready() -> bool:
        status = page.evaluate(STATUS_ITEM)
        if status and "codicon-error" in status["icon"]:
            # The extension restarts when its connection settings change; code-server may hand
            # the user's settings to the extension host after it activated, so an error must
            # last before it counts.
            erring_since[:1] = erring_since[:1] or [time.monotonic()]
            if time.monotonic() - erring_since[0] > ERROR_GRACE_S:
                pytest.fail(f"the extension reports an error: {status['description']}\n{editor.explain()}")
            return False
        erring_since.clear()
        return bool(status) and "codicon-sparkle" in status["icon"] and ready_as in (status["description"] or "")

    wait_for(f"the extension to be ready ({ready_as})", ready, READY_TIMEOUT_S, editor.explain)

    editor.open_quick_input("Go to Line (Ctrl+G)", "g", ":")
    page.type(str(MEAN_BODY_LINE))
    page.press(ENTER)
    page.press(END)
    editor.wait(f"the cursor at the end of line {MEAN_BODY_LINE}", f"{CURSOR} === 'Ln {MEAN_BODY_LINE}, Col 5'")
    page.type(TYPED)
    ghost_text = wait_for("the ghost text (an inline suggestion) after typing", lambda: page.evaluate(GHOST_TEXT),
                          SUGGESTION_TIMEOUT_S, editor.explain)
    status = editor.wait("the status bar to name the member", f"(() => {{ const s = {STATUS_ITEM}; "
                         "return s && s.text !== 'codequorum' ? s : null; })()", timeout=10)
    page.press(TAB)
    # The cursor lands after the inserted text (a new suggestion may show there at once).
    lines = ghost_text.split("\n")
    line = MEAN_BODY_LINE + len(lines) - 1
    column = (5 + len(TYPED) if len(lines) == 1 else 1) + len(lines[-1])
    editor.wait("Tab to accept the ghost text", f"{CURSOR} === 'Ln {line}, Col {column}'", timeout=20)
    page.press(character_key("s"), CONTROL)
    editor.wait("the file to be saved", "!document.querySelector('.tabs-container .tab.active.dirty')", timeout=20)
    return Accepted(ghost_text, status)


def feedback_rows(feedback_db: Path, editor: Editor) -> list[tuple[str, str, str, str]]:
    """The store's rows once the accept has reached it (the command VS Code runs on accepting)."""
    def accepted() -> list[tuple[str, str, str, str]] | None:
        if not feedback_db.exists():
            return None
        with sqlite3.connect(feedback_db) as db:
            rows = db.execute("SELECT suggestion_id, event, member, text FROM feedback ORDER BY id").fetchall()
        return rows if any(row[1] == "accepted" for row in rows) else None

    return wait_for(f"the accept in the feedback store {feedback_db}", accepted, 30, editor.explain)


def check_accepted(result: Accepted, source: Path, feedback_db: Path, editor: Editor) -> None:
    rows = feedback_rows(feedback_db, editor)
    [(suggestion_id, _, member, text)] = [row for row in rows if row[1] == "accepted"]
    assert [row[1:] for row in rows if row[0] == suggestion_id] == [("shown", member, text), ("accepted", member, text)]
    assert member == "qwen-small"
    assert text.strip(), rows
    # What was on screen is what the server suggested and what the file now holds.
    assert result.ghost_text.split("\n")[0] == text.split("\n")[0], (result.ghost_text, text)
    original = (ROOT / "examples" / "stats.py").read_text().split("\n")
    body = original[MEAN_BODY_LINE - 1] + TYPED + text
    expected = "\n".join([*original[:MEAN_BODY_LINE - 1], body, *original[MEAN_BODY_LINE:]])
    assert source.read_text() == expected, editor.explain()
    compile(source.read_text(), str(source), "exec")
    assert result.status["text"] == member, result.status  # the status bar names who proposed it


def test_over_stdio_a_suggestion_is_shown_accepted_with_tab_and_reported(
        installed_models, code_server_executable, vsix, tmp_path):
    workspace, source = make_workspace(tmp_path)
    feedback_db = tmp_path / "feedback.sqlite3"
    # The server the extension starts reads ./codequorum.toml: it runs in the workspace folder.
    write_server_config(workspace / "codequorum.toml", feedback_db)
    with editor_session(code_server_executable, vsix, tmp_path, workspace,
                        {"codequorum.path": str(CODEQUORUM)}) as editor:
        result = accept_a_suggestion(editor, ready_as="ready (a local server (stdio))")
        check_accepted(result, source, feedback_db, editor)


def test_over_tcp_with_a_token_a_suggestion_is_shown_accepted_with_tab_and_reported(
        installed_models, code_server_executable, vsix, tmp_path):
    workspace, source = make_workspace(tmp_path)
    feedback_db = tmp_path / "feedback.sqlite3"
    config = write_server_config(tmp_path / "server.toml", feedback_db)
    token_file, server_log = tmp_path / "token", tmp_path / "server.log"
    token_file.write_text(f"token-{uuid.uuid4().hex}\n")
    with tcp_server(config, token_file, server_log) as address:
        settings = {"codequorum.remote.address": address, "codequorum.remote.tokenFile": str(token_file),
                    "codequorum.remote.tokenEnv": "CODEQUORUM_TEST_UNSET"}
        with editor_session(code_server_executable, vsix, tmp_path, workspace, settings, server_log) as editor:
            result = accept_a_suggestion(editor, ready_as=f"ready ({address})")
            check_accepted(result, source, feedback_db, editor)
