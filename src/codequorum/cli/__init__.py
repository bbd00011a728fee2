"""The `codequorum` command line (typer): one sub-module per command group."""

from __future__ import annotations

from codequorum.cli.app import app

__all__ = ["app"]
