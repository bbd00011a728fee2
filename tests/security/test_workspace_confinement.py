"""`codequorum.fix` and the Fix code action act only on saved files inside the workspace folders,
and a network client's own test command is refused.

A real `codequorum serve --tcp` (with a token); the client's workspace folder is a project on
the host, next to a folder outside it holding a file with a secret, and a symlink from the
project to that file. Every attempt to reach the outside (a plain path, `..`, `..%2F`, the
link, a non-file URI, no workspace at all) is refused with the reason, before the file is read
(no yes/no oracle on its contents) and before any test command runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.conftest import SERVER_TOKEN, RunningServer, start_server
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

SECRET_TEXT = "PASSWORD = 'hunter2'\n"
CALC = "def add(a, b):\n    return a - b\n"


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[RunningServer, Path, Path]]:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "calc.py").write_text(CALC)
    (project / "test_calc.py").write_text("from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (outside / "secret.py").write_text(SECRET_TEXT)
    (project / "link.py").symlink_to(outside / "secret.py")
    canary = outside / "ran"
    config = tmp_path / "codequorum.toml"
    config.write_text(f'[server]\nwarm_up = false\nfeedback = false\nfix_test_command = "touch {canary}"\n')
    (tmp_path / "token").write_text(SERVER_TOKEN)
    server = start_server(config, "--token-file", str(tmp_path / "token"), token=SERVER_TOKEN)
    yield server, project, outside
    server.stop()


def client_in(server: RunningServer, project: Path | None) -> WireClient:
    client = WireClient.connect(server.port)
    root = project.as_uri() if project else None
    assert "result" in client.initialize({"token": SERVER_TOKEN}, root=root)
    return client


def fix(client: WireClient, uri: str, text: str, **extra) -> dict:
    client.open(uri, text)
    return client.command("codequorum.fix", {"uri": uri, **extra})


def fix_actions(client: WireClient, uri: str, text: str) -> list[str]:
    client.open(uri, text)
    reply = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "context": {"diagnostics": []},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}})
    return [action["title"] for action in reply["result"] if "Fix" in action["title"]]


def refusal(reply: dict) -> str:
    assert "error" in reply, reply
    message = reply["error"]["message"]
    assert "Traceback" not in message and SECRET_TEXT.strip() not in message
    return message


def test_a_file_outside_the_workspace_is_refused(scene):
    server, project, outside = scene
    client = client_in(server, project)
    try:
        message = refusal(fix(client, (outside / "secret.py").as_uri(), SECRET_TEXT))
        assert "outside the workspace folders" in message
        wrong = refusal(fix(client, (outside / "secret.py").as_uri(), "a guess\n"))
        assert wrong == message  # the same answer whatever the text: no oracle on the file
    finally:
        client.close()
    assert not (outside / "ran").exists()


@pytest.mark.parametrize(("suffix", "reason"), [
    ("/..%2Foutside%2Fsecret.py", "percent-encoded"),
    ("/%2e%2e/outside/secret.py", "percent-encoded"),
    ("/../outside/secret.py", "without `..`"),
])
def test_traversal_in_the_uri_is_refused(scene, suffix, reason):
    server, project, outside = scene
    client = client_in(server, project)
    try:
        assert reason in refusal(fix(client, project.as_uri() + suffix, SECRET_TEXT))
    finally:
        client.close()
    assert not (outside / "ran").exists()


def test_a_symlink_out_of_the_workspace_is_refused(scene):
    server, project, _ = scene
    client = client_in(server, project)
    try:
        assert "outside the workspace folders" in refusal(fix(client, (project / "link.py").as_uri(), SECRET_TEXT))
        assert fix_actions(client, (project / "link.py").as_uri(), SECRET_TEXT) == []
    finally:
        client.close()


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "http://127.0.0.1/calc.py",
                                 "file://other-host/etc/passwd"])
def test_a_uri_that_is_not_a_local_file_is_refused(scene, uri):
    server, project, _ = scene
    client = client_in(server, project)
    try:
        message = refusal(fix(client, uri, CALC))
        assert "only file: URIs" in message or "another host" in message
    finally:
        client.close()


def test_without_a_workspace_folder_nothing_is_fixed(scene):
    server, project, _ = scene
    client = client_in(server, None)
    try:
        assert "no workspace folder" in refusal(fix(client, (project / "calc.py").as_uri(), CALC))
        assert fix_actions(client, (project / "calc.py").as_uri(), CALC) == []
    finally:
        client.close()


def test_the_fix_action_is_offered_inside_the_workspace_only(scene):
    server, project, outside = scene
    client = client_in(server, project)
    try:
        assert fix_actions(client, (project / "calc.py").as_uri(), CALC) == ["Fix failing tests with codequorum"]
        assert fix_actions(client, (outside / "secret.py").as_uri(), SECRET_TEXT) == []
    finally:
        client.close()


def test_a_network_clients_test_command_is_refused(scene):
    server, project, outside = scene
    client = client_in(server, project)
    try:
        message = refusal(fix(client, (project / "calc.py").as_uri(), CALC,
                              test=f"cat {outside / 'secret.py'} > {outside / 'ran'}"))
        assert "does not run a client's test command from a network client" in message
        assert "client_test_command" in message
    finally:
        client.close()
    assert not (outside / "ran").exists()
