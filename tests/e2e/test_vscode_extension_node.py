"""The VS Code extension (editors/vscode): its settings mirror the server's schema, and
scripts/test-editors.sh installs, type-checks and builds it, then runs its Node test, which
speaks LSP over stdio to the real `codequorum serve` with the real Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo

from codequorum.config import EngineConfig, MemberConfig, ServerConfig, default_members, settings_from_dict
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

EXTENSION = ROOT / "editors" / "vscode"
CLIENT_SETTINGS = {"codequorum.path"}  # the extension's own; the server never sees them


def server_settings() -> dict[str, dict[str, Any]]:
    manifest = json.loads((EXTENSION / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    return {key.removeprefix("codequorum."): spec for key, spec in properties.items()
            if key not in CLIENT_SETTINGS}


def schema_fields() -> dict[str, FieldInfo]:
    """What the extension mirrors: [engine], [server] and switching the embedded members."""
    return ({f"engine.{name}": field for name, field in EngineConfig.model_fields.items()}
            | {f"server.{name}": field for name, field in ServerConfig.model_fields.items()}
            | {f"members.{name}.enabled": MemberConfig.model_fields["enabled"] for name in default_members()})


def test_the_extension_settings_mirror_the_server_schema():
    settings = server_settings()
    fields = schema_fields()
    assert settings.keys() == fields.keys()
    for key, field in fields.items():
        default = str(field.default) if isinstance(field.default, Path) else field.default
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


def test_the_extension_builds_and_its_node_test_passes_against_the_real_server(installed_models):
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: the VS Code extension needs Node.js 20 or newer with npm")
    env = {**os.environ, "CODEQUORUM_BIN": str(Path(sys.executable).with_name("codequorum"))}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "test-editors.sh")], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), output[-8000:]
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), output[-8000:]
