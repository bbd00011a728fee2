"""End-to-end fixtures: the real embedded models, loaded once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codequorum.models.store import ModelStatus, ModelStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def installed_models() -> ModelStore:
    """The model store; fails (never skips) when the embedded models are not installed."""
    store = ModelStore()
    missing = [m for m in ("qwen2.5-coder-0.5b", "smollm2-135m")
               if store.state(m).status is not ModelStatus.INSTALLED]
    if missing:
        pytest.fail(f"embedded models {missing} are not installed: run `codequorum models install`")
    return store


def run_cli(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `codequorum` console script."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).with_name("codequorum")), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


ADD = "Write a Python function add(a, b) that returns a + b."  # examples/add_tests.py checks it


def generate_add(strategy: str, config: Path) -> dict[str, Any]:
    """`codequorum generate` for ADD with its visible tests, through the strategy: the JSON."""
    done = run_cli("generate", "--instruction", ADD, "--tests-file", str(ROOT / "examples/add_tests.py"),
                   "--strategy", strategy, "--max-tokens", "32", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
