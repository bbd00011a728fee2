"""The distilled model as a member: its SHA-256 beside it, and the `[members.NAME]` table
that runs it (written as a fragment, appended to a configuration file only when asked)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from codequorum.config import MemberConfig
from codequorum.models.store import sha256_of
from codequorum.vocabulary.errors import CodequorumError


def write_checksum(model: Path) -> str:
    """The file's SHA-256, also written to `MODEL.sha256` in sha256sum's format."""
    digest = sha256_of(model)
    model.with_name(model.name + ".sha256").write_text(f"{digest}  {model.name}\n", encoding="utf-8")
    return digest


def member_table(name: str, model: Path, like: MemberConfig, sha256: str) -> str:
    """A `[members.NAME]` table for the llama-cpp backend, its prompt formats, price and
    threads taken from the member it was distilled from (`like`)."""
    lines = [f"# distilled from {like.name}; SHA-256 {sha256}", f"[members.{name}]",
             'backend = "llama-cpp"', f"path = {json.dumps(str(model.resolve()))}"]
    if like.fim is not None:
        lines.append(f"fim = {json.dumps(like.fim)}")
    lines += [f"quality = {like.quality}", f"price_per_1k_tokens = {like.price_per_1k_tokens}",
              f"n_ctx = {like.n_ctx}"]
    if like.n_threads is not None:
        lines.append(f"n_threads = {like.n_threads}")
    return "\n".join(lines) + "\n"


def register(config_file: Path, name: str, table: str) -> None:
    """Append `table` to `config_file` (created if missing); a member of that name already
    there is an error, never overwritten."""
    existing = config_file.read_text(encoding="utf-8") if config_file.is_file() else ""
    try:
        members = tomllib.loads(existing).get("members", {})
    except tomllib.TOMLDecodeError as error:
        raise CodequorumError(f"{config_file}: not valid TOML ({error}): fix it before registering") from error
    if name in members:
        raise CodequorumError(f"{config_file} already has [members.{name}]: remove it, or choose "
                              "another name with --member-name")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    separator = "\n" if existing and not existing.endswith("\n\n") else ""
    if existing and not existing.endswith("\n"):
        separator = "\n\n"
    config_file.write_text(existing + separator + table, encoding="utf-8")
