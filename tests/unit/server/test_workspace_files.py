from pathlib import Path
from types import SimpleNamespace

import pytest
from pygls.workspace import Workspace

from codequorum.config import settings_from_dict
from codequorum.server.extensions import FixArgs
from codequorum.server.features.errors import ArgumentsError
from codequorum.server.fixing import chosen_test_command as client_test_command
from codequorum.server.workspace_files import (
    OutsideWorkspace,
    workspace_file,
    workspace_folders,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.py").write_text("x = 1\n")
    (tmp_path / "q.py").write_text("y = 2\n")
    return tmp_path / "p"


def test_a_file_inside_the_folder_resolves(project):
    found = workspace_file(Workspace(project.as_uri()), (project / "a.py").as_uri())
    assert found.path == (project / "a.py").resolve() and found.folder == project.resolve()


@pytest.mark.parametrize("tail", ["/../q.py", "/..%2Fq.py", "/%2E%2E/q.py", "/a.py%00", "/a.py?x=1"])
def test_tricks_in_the_uri_are_refused(project, tail):
    with pytest.raises(OutsideWorkspace):
        workspace_file(Workspace(project.as_uri()), project.as_uri() + tail)


def test_a_file_next_to_the_folder_is_outside(project):
    with pytest.raises(OutsideWorkspace, match="outside the workspace folders"):
        workspace_file(Workspace(project.as_uri()), (project.parent / "q.py").as_uri())


def test_an_unsaved_file_is_refused(project):
    with pytest.raises(OutsideWorkspace, match="not a saved file"):
        workspace_file(Workspace(project.as_uri()), (project / "new.py").as_uri())


def test_the_filesystem_root_is_never_a_workspace_folder(project):
    assert workspace_folders(Workspace("file:///")) == []
    assert workspace_folders(Workspace(project.as_uri())) == [project.resolve()]


def session(policy: str, stdio: bool) -> SimpleNamespace:
    settings = settings_from_dict({"server": {"client_test_command": policy}}, "test")
    return SimpleNamespace(session=SimpleNamespace(settings=settings), connection=None if stdio else object())


@pytest.mark.parametrize(("policy", "stdio", "allowed"), [
    ("stdio", True, True), ("stdio", False, False), ("always", False, True), ("never", True, False)])
def test_a_clients_test_command_follows_the_policy(policy, stdio, allowed):
    ls = session(policy, stdio)
    args = FixArgs(uri="file:///x.py", test="make check")
    if allowed:
        assert client_test_command(ls, args) == "make check"
    else:
        with pytest.raises(ArgumentsError, match="client_test_command"):
            client_test_command(ls, args)
    assert client_test_command(ls, FixArgs(uri="file:///x.py")) == "python -m pytest -q"


def test_without_a_folder_only_the_stdio_client_gets_the_files_project(project):
    uri = (project / "a.py").as_uri()
    with pytest.raises(OutsideWorkspace, match="no workspace folder"):
        workspace_file(Workspace(None), uri)
    assert workspace_file(Workspace(None), uri, stdio=True).folder == project.resolve()
