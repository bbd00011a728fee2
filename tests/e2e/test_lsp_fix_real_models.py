"""`codequorum.fix` through `codequorum serve` over stdio: the code action, the command and the
workspace edit, with the real sandbox and a real model (Qwen2.5-Coder-0.5B)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codequorum.stores.verified import VerifiedLog
from tests.dirs import searchable_dir
from tests.e2e.conftest import ROOT
from tests.e2e.lsp_session import (
    command,
    initialize,
    insert,
    open_document,
    start_stdio,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

TEST_COMMAND = "python -m pytest -q --tb=short -p no:cacheprovider -p no:asyncio"
CONFIG = f"""
[engine]
deadline_s = 300
[server]
warm_up = false
fix_members = ["qwen-small"]
generate_max_tokens = 96
fix_test_command = "{TEST_COMMAND}"
"""


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    with searchable_dir("cq-lsp-fix-") as base:
        shutil.copytree(ROOT / "tests" / "fixtures" / "fix_projects" / "buggy_calc", base / "calc")
        (base / "codequorum.toml").write_text(CONFIG + f'[distill]\nverified_log = "{base / "verified.jsonl"}"\n')
        yield base / "calc"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(installed_models, project):
    client = await start_stdio(project.parent / "codequorum.toml")
    await initialize(client)
    yield client
    await client.shutdown_session()
    await client.stop()


async def test_the_fix_code_action_returns_and_applies_a_workspace_edit(client, project):
    ops = project / "calc" / "ops.py"
    original = ops.read_text()
    uri = ops.as_uri()
    open_document(client, uri, original)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), types.Range(types.Position(5, 4), types.Position(5, 4)),
        types.CodeActionContext(diagnostics=[])))
    [action] = [a for a in actions if a.title == "Fix failing tests with codequorum"]
    assert action.kind == types.CodeActionKind.QuickFix
    result = await command(client, action.command.command, *action.command.arguments)
    assert result["outcome"] == "fixed" and result["applied"] is True, result
    assert result["member"] == "qwen-small" and "+    return a + b" in result["diff"]
    [edit] = client.applied_edits
    [change] = edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == 1
    assert "return a + b" in change.edits[0].new_text
    assert ops.read_text() == original  # the editor writes the file, not the server
    [kept] = VerifiedLog(project.parent / "verified.jsonl").entries()  # applied by the user's editor
    assert kept.kind == "fix" and kept.member == "qwen-small" and "return a + b" in kept.answer
    assert kept.verified_by == TEST_COMMAND


async def test_unsaved_changes_are_refused(client, project):
    uri = (project / "calc" / "__init__.py").as_uri()
    open_document(client, uri, "")
    insert(client, uri, 2, 0, 0, "x = 1\n")
    with pytest.raises(JsonRpcInvalidParams) as error:
        await command(client, "codequorum.fix", {"uri": uri})
    assert "unsaved changes" in error.value.message
