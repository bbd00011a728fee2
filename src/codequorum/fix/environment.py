"""The project's Python interpreter and packages, made visible read-only inside the sandbox.

CMD must run with the project's own interpreter and installed packages, and nothing else of
the user's home. A tree that the sandbox user (uid 65534, when codequorum runs as root) can
reach is bound read-only at its own path. One it cannot reach — a virtual environment or a
pyenv interpreter under a home directory that is not searchable by others — is *staged*:
hard-linked (copied where hard links are impossible) into a fresh directory under /tmp that
uid 65534 can walk, and that copy is mounted read-only at the original path inside the
sandbox, so the venv's absolute symlinks and `pyvenv.cfg` still resolve. Hard links share the
files' inodes, so their owners and modes (root, 0644) stay as they were: nothing becomes
writable, and nothing outside those trees becomes readable. See docs/sandbox.md.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from codequorum.fix.work_area import new_work_dir, remove_work_dir
from codequorum.sandbox.errors import SandboxError
from codequorum.sandbox.workdir import check_reachable
from codequorum.vocabulary.errors import CodequorumError

VENV_NAMES = (".venv", "venv", ".env", "env")
# Bound by the sandbox already (read-only system directories).
SYSTEM_PREFIXES = (Path("/usr"), Path("/bin"), Path("/lib"), Path("/lib64"), Path("/sbin"))


@dataclass(frozen=True)
class PythonEnvironment:
    """Where the project's interpreter lives: a virtual environment and its base installation."""

    bin_dir: Path  # holds `python`; first on PATH inside the sandbox
    venv: Path | None  # the virtual environment's root (it has pyvenv.cfg), if any
    base_prefix: Path | None  # the real interpreter's installation, unless a system directory
    system_site_packages: bool = False

    def environment(self) -> dict[str, str]:
        env = {"PATH": f"{self.bin_dir}:/usr/bin:/bin"}
        if self.venv is not None:
            env["VIRTUAL_ENV"] = str(self.venv)
        return env


@dataclass(frozen=True)
class Tree:
    """A host directory the sandbox must see; `skip` names directories left out when staged."""

    path: Path
    skip: frozenset[str] = field(default_factory=frozenset)


def find_python_environment(project: Path, python: Path | None = None) -> PythonEnvironment:
    """`python` (an interpreter or a venv), else the project's own venv, else the caller's
    active venv, else the interpreter running codequorum."""
    if python is not None:
        return _environment_of(python)
    for name in VENV_NAMES:
        if (project / name / "pyvenv.cfg").is_file():
            return _environment_of(project / name)
    active = os.environ.get("VIRTUAL_ENV")
    if active and (Path(active) / "pyvenv.cfg").is_file():
        return _environment_of(Path(active))
    if sys.prefix != sys.base_prefix:
        return _environment_of(Path(sys.prefix))
    return _environment_of(Path(sys.executable))


def _environment_of(path: Path) -> PythonEnvironment:
    path = path.absolute()
    venv = _venv_root(path)
    if venv is not None:
        config = _pyvenv_cfg(venv)
        home = Path(config.get("home", "")).resolve() if config.get("home") else None
        return PythonEnvironment(
            bin_dir=venv / "bin",
            venv=venv,
            base_prefix=_non_system(home.parent) if home else None,
            system_site_packages=config.get("include-system-site-packages", "").lower() == "true",
        )
    if not path.is_file() or not os.access(path, os.X_OK):
        raise CodequorumError(
            f"{path} is neither a Python interpreter nor a virtual environment; "
            "give --python the venv directory or its bin/python"
        )
    real = path.resolve()
    return PythonEnvironment(bin_dir=path.parent, venv=None, base_prefix=_non_system(real.parent.parent))


def _venv_root(path: Path) -> Path | None:
    for candidate in (path, path.parent.parent):  # the venv itself, or its bin/python
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    return None


def _pyvenv_cfg(venv: Path) -> dict[str, str]:
    values = {}
    for line in (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _non_system(prefix: Path) -> Path | None:
    if any(prefix == system or system in prefix.parents for system in SYSTEM_PREFIXES):
        return None
    return prefix


def trees_of(environment: PythonEnvironment) -> list[Tree]:
    """The host trees CMD needs. The base installation's own site-packages stay out unless
    the venv asks for them (include-system-site-packages), as Python itself would."""
    trees = []
    if environment.venv is not None:
        trees.append(Tree(environment.venv))
    if environment.base_prefix is not None:
        keep_site = environment.venv is None or environment.system_site_packages
        skip = frozenset() if keep_site else frozenset({"site-packages"})
        trees.append(Tree(environment.base_prefix, skip))
    return _outermost(trees)


def _outermost(trees: list[Tree]) -> list[Tree]:
    """Drop a tree inside another one (a venv inside the base prefix) to avoid double mounts."""
    return [t for t in trees if not any(o is not t and o.path in t.path.parents for o in trees)]


@dataclass(frozen=True)
class Mounts:
    """What `Sandbox` gets: trees bound at their own path, and staged copies mounted back."""

    readonly_paths: tuple[Path, ...] = ()
    readonly_mounts: tuple[tuple[Path, str], ...] = ()


@contextmanager
def visible_in_sandbox(trees: list[Tree], drops_privileges: bool | None = None) -> Iterator[Mounts]:
    """Mounts for `trees`; staged copies live as long as the context."""
    drop = os.geteuid() == 0 if drops_privileges is None else drops_privileges  # as the runner
    direct: list[Tree] = []
    staged: list[Tree] = []
    for tree in trees:
        (staged if drop and not _reachable(tree.path) else direct).append(tree)
    stage_root = new_work_dir("env") if staged else None
    try:
        mounts: list[tuple[Path, str]] = []
        if stage_root is not None:
            for number, tree in enumerate(staged):
                copy = stage_root / str(number)
                link_tree(tree.path, copy, tree.skip)
                mounts.append((copy, str(tree.path)))
        yield Mounts(tuple(t.path for t in direct), tuple(mounts))
    finally:
        if stage_root is not None:
            remove_work_dir(stage_root)


def _reachable(path: Path) -> bool:
    try:
        check_reachable(path / "x")  # the tree itself must be searchable too
    except SandboxError:
        return False
    return True


def link_tree(source: Path, target: Path, skip: frozenset[str] = frozenset()) -> None:
    """Recreate `source` at `target` with hard links (copies across file systems); symbolic
    links are recreated as they are, directories keep their modes."""
    target.mkdir(mode=0o755)
    for directory, subdirs, names in os.walk(source):
        subdirs[:] = [d for d in subdirs if d not in skip]
        here = target / Path(directory).relative_to(source)
        for name in subdirs:
            _link_entry(Path(directory) / name, here / name, is_dir=True)
        for name in names:
            _link_entry(Path(directory) / name, here / name, is_dir=False)
        shutil.copymode(directory, here)


def _link_entry(source: Path, target: Path, *, is_dir: bool) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif is_dir:
        target.mkdir()
    else:
        try:
            os.link(source, target)
        except OSError:  # another file system, or hard links not allowed: copy instead
            shutil.copy2(source, target)
