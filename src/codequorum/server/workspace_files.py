"""Which files a client may have the server act on: saved files inside its workspace folders.

A document's URI is the client's word. `codequorum.fix` reads the file behind it and runs the
project's tests there, so a URI naming any server folder (`file:///srv/other/x.py`, a
`..%2F` traversal, a symlink out of the workspace) would be a yes/no oracle on any file and
a way to run tests in any project. The path is resolved (links followed) and must lie inside
one of the workspace folders, themselves resolved; anything else is refused with the reason.

A client that sent no workspace folder (an editor opened on a single file) is refused over
the network; over stdio, where the client is the user's own editor, the file's project root
stands in for the folder, as for `codequorum fix FILE` on the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pygls.workspace import Workspace

from codequorum.fix.project import project_root_of
from codequorum.server.documents import DocumentError

# Percent-encoded separators, dots and NUL: a URI that needs them to name a file is hiding a path.
_ENCODED = re.compile(r"%(2f|2e|00)", re.IGNORECASE)


class OutsideWorkspace(DocumentError):
    """The document is not a saved file inside the client's workspace folders."""


@dataclass(frozen=True)
class WorkspaceFile:
    path: Path  # resolved
    folder: Path  # the resolved workspace folder holding it


def workspace_file(workspace: Workspace, uri: str, stdio: bool = False) -> WorkspaceFile:
    path = _local_path(uri)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise OutsideWorkspace(f"{uri} is not a saved file: save it first") from error
    if not resolved.is_file():
        raise OutsideWorkspace(f"{uri} is not a regular file")
    folders = workspace_folders(workspace)
    if not folders and stdio:
        folders = [project_root_of(resolved).resolve()]
    if not folders:
        raise OutsideWorkspace(f"{uri}: the client sent no workspace folder: open the project as a "
                               "folder (rootUri or workspaceFolders) to fix files in it")
    for folder in folders:
        if resolved.is_relative_to(folder):
            return WorkspaceFile(resolved, folder)
    listed = ", ".join(str(folder) for folder in folders)
    raise OutsideWorkspace(f"{uri} is outside the workspace folders ({listed}), links resolved: "
                           "only files inside them can be fixed")


def workspace_folders(workspace: Workspace) -> list[Path]:
    """The client's workspace folders, resolved; `/` is never one (it would confine nothing)."""
    uris = [folder.uri for folder in workspace.folders.values()]
    if not uris and workspace.root_uri:
        uris = [workspace.root_uri]
    folders = []
    for uri in uris:
        try:
            folder = _local_path(uri).resolve(strict=True)
        except (DocumentError, OSError, RuntimeError):
            continue
        if folder.is_dir() and folder != Path(folder.anchor):
            folders.append(folder)
    return folders


def _local_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise OutsideWorkspace(f"{uri}: only file: URIs can be fixed")
    if parts.netloc not in ("", "localhost"):
        raise OutsideWorkspace(f"{uri}: a file on another host ({parts.netloc}) cannot be fixed")
    if parts.query or parts.fragment or _ENCODED.search(parts.path):
        raise OutsideWorkspace(f"{uri}: percent-encoded separators, dots or a query are refused "
                               "in a file URI to fix")
    text = unquote(parts.path)
    if not text.startswith("/") or ".." in text.split("/"):
        raise OutsideWorkspace(f"{uri}: not an absolute path without `..`")
    return Path(text)
