"""The VS Code extension (editors/vscode): its settings mirror the server's schema, and
scripts/test-editors.sh installs it from the npm registry, type-checks and builds it, runs its
Node tests (which speak LSP to the real `codequorum serve` with the real Qwen2.5-Coder-0.5B
over stdio, TCP with a token, and WebSocket), and packages it with vsce; the package holds
the bundle and nothing of the sources, and a partial accept reached the feedback store."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo

from codequorum.config import EngineConfig, MemberConfig, ServerConfig, default_members, settings_from_dict
from codequorum.server.client_settings import MEMBER_CHOICES, OWN_EDITOR_ENGINE, STRATEGY_CHOICES, TUNABLE
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

EXTENSION = ROOT / "editors" / "vscode"
# The extension's own settings; the server never sees them.
CLIENT_SETTINGS = {"codequorum.path", "codequorum.enable", "codequorum.remote.address",
                   "codequorum.remote.tokenEnv", "codequorum.remote.tokenFile", "codequorum.remote.caFile"}
PACKAGED = {"extension.vsixmanifest", "[Content_Types].xml", "extension/package.json",
            "extension/readme.md", "extension/dist/extension.js"}


def server_settings() -> dict[str, dict[str, Any]]:
    manifest = json.loads((EXTENSION / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    return {key.removeprefix("codequorum."): spec for key, spec in properties.items()
            if key not in CLIENT_SETTINGS}


def schema_fields() -> dict[str, FieldInfo]:
    """What the extension mirrors: what the server takes from the editor that starts it
    (`server/client_settings.py`): the [server] tuning keys and choices, the [engine] request
    knobs, and switching the embedded members. Paths, commands and limits are the server's own."""
    server_keys = TUNABLE | MEMBER_CHOICES | STRATEGY_CHOICES
    return ({f"engine.{name}": field for name, field in EngineConfig.model_fields.items() if name in OWN_EDITOR_ENGINE}
            | {f"server.{name}": field for name, field in ServerConfig.model_fields.items() if name in server_keys}
            | {f"members.{name}.enabled": MemberConfig.model_fields["enabled"] for name in default_members()})


def test_the_extension_settings_mirror_the_server_schema():
    settings = server_settings()
    fields = schema_fields()
    assert settings.keys() == fields.keys()
    for key, field in fields.items():
        default = field.get_default(call_default_factory=True)
        default = str(default) if isinstance(default, Path) else default
        assert settings[key]["default"] == default, key
        assert settings[key]["markdownDescription"], key
    options: dict[str, Any] = {}
    for key, spec in settings.items():
        *tables, leaf = key.split(".")
        table = options
        for name in tables:
            table = table.setdefault(name, {})
        table[leaf] = spec["default"]
    settings_from_dict(options, "package.json defaults")  # raises ConfigError on a bad type


def test_settings_that_reach_other_machines_or_run_programs_cannot_come_from_a_workspace():
    manifest = json.loads((EXTENSION / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    for key in ("codequorum.path", "codequorum.remote.address", "codequorum.remote.tokenEnv",
                "codequorum.remote.tokenFile", "codequorum.remote.caFile"):
        assert properties[key]["scope"] == "machine", key  # user settings only, never synced
    # The token itself is never a setting: only where to read it from.
    token_keys = {key for key in properties if re.search(r"token(?!s)", key, re.IGNORECASE)}
    assert token_keys == {"codequorum.remote.tokenEnv", "codequorum.remote.tokenFile"}


def test_the_extension_builds_packages_and_its_node_tests_pass_against_the_real_server(installed_models, tmp_path):
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: the VS Code extension needs Node.js 20 or newer with npm")
    vsix = tmp_path / "codequorum.vsix"
    env = {**os.environ, "CODEQUORUM_BIN": str(Path(sys.executable).with_name("codequorum")),
           "CODEQUORUM_VSIX": str(vsix), "CODEQUORUM_FEEDBACK_DIR": str(tmp_path)}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "test-editors.sh")], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), output[-8000:]
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), output[-8000:]
    assert not re.search(r"^# (skipped|cancelled) [1-9]", result.stdout, re.MULTILINE), output[-8000:]

    with zipfile.ZipFile(vsix) as package:
        assert set(package.namelist()) == PACKAGED
        manifest = json.loads(package.read("extension/package.json"))
        assert manifest["main"] == "./dist/extension.js"
        bundle = package.read("extension/dist/extension.js").decode()
    # One file with the language client inside, loading nothing from node_modules.
    assert "textDocument/inlineCompletion" in bundle
    assert not re.search(r"require\(\"(vscode-languageclient|vscode-languageserver-protocol|ws)[/\"]", bundle)

    partial = json.loads((tmp_path / "tcp-partial.json").read_text())
    rows = sqlite3.connect(tmp_path / "feedback-tcp.sqlite3").execute(
        "SELECT suggestion_id, event, member, accepted_chars FROM feedback ORDER BY id").fetchall()
    suggestion = partial["id"]
    assert rows == [(suggestion, "shown", "qwen-small", None),
                    (suggestion, "accepted_partial", "qwen-small", partial["accepted_chars"]),
                    (suggestion, "accepted", "qwen-small", None)]
