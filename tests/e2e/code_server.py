"""A real VS Code for end-to-end tests: code-server (VS Code's server and web client, from npm,
installed by scripts/code-server-install.sh) opened in Debian's Chromium, headless, driven
over the DevTools protocol: keys as a user presses them, the editor's DOM read back. Every
process is a child on 127.0.0.1, stopped by its own process group."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import ROOT

INSTALL_SCRIPT = ROOT / "scripts" / "code-server-install.sh"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
                  "--window-size=1400,900"]
T = TypeVar("T")


class DevToolsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Key:
    """A key as Input.dispatchKeyEvent takes it."""
    key: str
    code: str
    key_code: int
    text: str | None = None


TAB = Key("Tab", "Tab", 9)
ENTER = Key("Enter", "Enter", 13, "\r")
END = Key("End", "End", 35)
CONTROL = 2  # the modifier bit


def character_key(char: str) -> Key:
    if char == " ":
        return Key(" ", "Space", 32, " ")
    if char.isalpha():
        return Key(char, f"Key{char.upper()}", ord(char.upper()), char)
    if char.isdigit():
        return Key(char, f"Digit{char}", ord(char), char)
    return Key(char, "", 0, char)  # punctuation: the text is what the editor reads


class Page:
    """One Chromium tab over the DevTools protocol (JSON messages on a WebSocket)."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._last_id = 0

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._last_id += 1
        self._socket.send(json.dumps({"id": self._last_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError(f"{method}: no answer from Chromium within {timeout} s")
            message = json.loads(self._socket.recv(timeout=left))
            if message.get("id") != self._last_id:
                continue  # an event: none is subscribed to, some come anyway
            if "error" in message:
                raise DevToolsError(f"{method}: {message['error']}")
            return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if a promise)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DevToolsError(f"{expression[:80]}...: {details.get('exception', {}).get('description', details)}")
        return result["result"].get("value")

    def press(self, key: Key, modifiers: int = 0) -> None:
        down: dict[str, Any] = {"type": "keyDown" if key.text and not modifiers else "rawKeyDown",
                                "key": key.key, "code": key.code, "windowsVirtualKeyCode": key.key_code,
                                "nativeVirtualKeyCode": key.key_code, "modifiers": modifiers}
        if key.text and not modifiers:
            down["text"] = down["unmodifiedText"] = key.text
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key.key, code=key.code,
                  windowsVirtualKeyCode=key.key_code, nativeVirtualKeyCode=key.key_code, modifiers=modifiers)

    def type(self, text: str, delay_s: float = 0.05) -> None:
        """Type as a person does: one key at a time."""
        for char in text:
            self.press(character_key(char))
            time.sleep(delay_s)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, explain: Callable[[], str]) -> T:
    """Poll `probe` until it returns something other than None or False; fail saying `what`."""
    value = wait_for_briefly(probe, timeout)
    if value is None:
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{explain()}")
    return value


def wait_for_briefly(probe: Callable[[], T | None], timeout: float = 5.0) -> T | None:
    """`probe`'s first value other than None or False within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None and value is not False:
            return value
        time.sleep(0.25)
    return None


def install_code_server() -> Path:
    """scripts/code-server-install.sh: the cached code-server (installed on the first run)."""
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"could not install code-server (scripts/code-server-install.sh):\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: run `bash scripts/system-deps.sh` (installs chromium)")
    return found


@dataclass
class CodeServer:
    """A running code-server and the folders it was given."""
    executable: Path
    user_data: Path
    extensions: Path
    config: Path
    log: Path
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.executable), *self.common_args(), *args], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, env=env, timeout=timeout)

    def common_args(self) -> list[str]:
        return ["--config", str(self.config), "--user-data-dir", str(self.user_data),
                "--extensions-dir", str(self.extensions)]

    def logs(self, limit: int = 6000) -> str:
        """code-server's own output, then the tail of each VS Code log (the extension host's, the
        extension's output channel)."""
        parts = [f"--- {self.log}\n{self.log.read_text(errors='replace')[-limit:]}" if self.log.exists() else ""]
        for path in sorted((self.user_data / "logs").rglob("*.log")):
            text = path.read_text(errors="replace").strip()
            if text and re.search(r"exthost|codequorum|remoteagent", str(path.relative_to(self.user_data))):
                parts.append(f"--- {path}\n{text[-limit:]}")
        return "\n".join(part for part in parts if part)


def prepare_code_server(executable: Path, home: Path, settings: dict[str, Any], vsix: Path,
                        env: dict[str, str]) -> CodeServer:
    """Fresh user-data and extensions folders, the user's settings.json, the extension installed
    from its package as a user does (`code-server --install-extension X.vsix`)."""
    server = CodeServer(executable, home / "user-data", home / "extensions", home / "code-server.yaml",
                        home / "code-server.log")
    (server.user_data / "User").mkdir(parents=True)
    server.extensions.mkdir()
    (server.user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    # code-server's extension host runs on the "remote" side, which reads machine-scoped
    # settings (codequorum.remote.*) from its Machine settings too
    (server.user_data / "Machine").mkdir()
    (server.user_data / "Machine" / "settings.json").write_text(json.dumps(settings, indent=2))
    installed = server.cli("--install-extension", str(vsix), env=env)
    if installed.returncode != 0 or "was successfully installed" not in installed.stdout:
        pytest.fail(f"code-server --install-extension {vsix} failed:\n{installed.stdout}\n{installed.stderr}")
    return server


@contextmanager
def running_code_server(server: CodeServer, workspace: Path, env: dict[str, str]) -> Iterator[CodeServer]:
    """code-server on a free loopback port, without password, telemetry or update checks."""
    with server.log.open("w") as sink:
        process = subprocess.Popen(
            [str(server.executable), *server.common_args(), "--auth", "none", "--bind-addr", "127.0.0.1:0",
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", str(workspace)],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)

        def listening() -> re.Match[str] | None:
            if process.poll() is not None:
                pytest.fail(f"code-server exited {process.returncode}:\n{server.logs()}")
            return re.search(r"HTTP server listening on http://127\.0\.0\.1:(\d+)", server.log.read_text())

        try:
            server.port = int(wait_for("code-server to listen", listening, timeout=60, explain=server.logs)[1])
            yield server
        finally:
            _stop_group(process)


@contextmanager
def chromium_page(profile: Path, url: str) -> Iterator[Page]:
    """Headless Chromium with a fresh profile on `url`, one tab driven over DevTools."""
    profile.mkdir(parents=True, exist_ok=True)
    log = profile.parent / "chromium.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", url],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = profile / "DevToolsActivePort"

            def port() -> int | None:
                if process.poll() is not None:
                    pytest.fail(f"Chromium exited {process.returncode}:\n{log.read_text()[-3000:]}")
                text = port_file.read_text() if port_file.exists() else ""
                return int(text.split()[0]) if text.strip() else None

            devtools = wait_for("Chromium's DevTools port", port, timeout=60, explain=lambda: log.read_text()[-3000:])
            page_url = wait_for("Chromium's tab", lambda: _page_socket(devtools), timeout=30,
                                explain=lambda: log.read_text()[-3000:])
            with connect(page_url, max_size=None, open_timeout=10) as socket:
                yield Page(socket)
        finally:
            _stop_group(process)


def _page_socket(port: int) -> str | None:
    try:
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
    except httpx.TransportError:
        return None
    pages = [target["webSocketDebuggerUrl"] for target in targets if target.get("type") == "page"]
    return pages[0] if pages else None


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the process and what it started (code-server's extension host, the language server
    the extension spawned, Chromium's renderers): they share its process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent
    except ProcessLookupError:
        pass
