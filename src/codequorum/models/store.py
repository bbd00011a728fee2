"""Where assembled model files live, and whether each one is intact."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import platformdirs

from codequorum.models.catalog import CATALOG, EmbeddedModel
from codequorum.vocabulary.errors import ModelFileError

_CHUNK = 4 << 20


class ModelStatus(str, Enum):
    INSTALLED = "installed"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class ModelState:
    model: EmbeddedModel
    path: Path
    status: ModelStatus
    detail: str = ""


def default_cache_dir() -> Path:
    env = os.environ.get("CODEQUORUM_MODELS_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("codequorum")) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ModelStore:
    """Assembled model files plus a stamp per file that records a successful hash check.

    The stamp holds size and mtime, so an intact file is not re-hashed on every start, while
    any change to the file (a new mtime or size) forces a full SHA-256 check again.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()

    def path_for(self, model: EmbeddedModel) -> Path:
        return self.cache_dir / model.filename

    def state(self, model_id: str, full_check: bool = False) -> ModelState:
        model = lookup(model_id)
        path = self.path_for(model)
        if not path.is_file():
            return ModelState(model, path, ModelStatus.MISSING)
        size = path.stat().st_size
        if size != model.bytes:
            detail = f"{size} bytes, expected {model.bytes}"
            return ModelState(model, path, ModelStatus.CORRUPT, detail)
        if not full_check and self._stamp_matches(model, path):
            return ModelState(model, path, ModelStatus.INSTALLED)
        digest = sha256_of(path)
        if digest != model.sha256:
            return ModelState(model, path, ModelStatus.CORRUPT, f"SHA-256 {digest}")
        self.write_stamp(model, path)
        return ModelState(model, path, ModelStatus.INSTALLED)

    def verified_path(self, model_id: str) -> Path:
        """The path of an intact model file, or a ModelFileError that says how to fix it."""
        state = self.state(model_id)
        if state.status is ModelStatus.MISSING:
            raise ModelFileError(
                f"model {model_id!r} is not installed ({state.path} is missing): "
                "run `codequorum models install`"
            )
        if state.status is ModelStatus.CORRUPT:
            raise ModelFileError(
                f"model file {state.path} failed its integrity check ({state.detail}): "
                f"run `codequorum models install --force {model_id}`"
            )
        return state.path

    def write_stamp(self, model: EmbeddedModel, path: Path) -> None:
        stat = path.stat()
        stamp = {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        _stamp_path(path).write_text(json.dumps(stamp), encoding="utf-8")

    def _stamp_matches(self, model: EmbeddedModel, path: Path) -> bool:
        try:
            stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        stat = path.stat()
        return stamp == {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def lookup(model_id: str) -> EmbeddedModel:
    try:
        return CATALOG[model_id]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise ModelFileError(f"unknown embedded model {model_id!r} (known: {known})") from None


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")
