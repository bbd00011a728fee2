"""The Sandbox API without bubblewrap: refusals, hints and the opted-in unsandboxed path."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from codequorum.sandbox import (
    Sandbox,
    SandboxLimits,
    SandboxUnavailable,
    bubblewrap_available,
    bwrap,
    runner,
)

PY = "/usr/bin/python3"


# --- without bubblewrap


def test_missing_bubblewrap_refuses_with_install_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    monkeypatch.setattr(bwrap, "find_bwrap", lambda: None)
    assert not bubblewrap_available()
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox().run([PY, "-c", "print('must not run')"])


def test_broken_bubblewrap_is_reported_with_namespace_hints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'bubblewrap 0.8.0' && exit 0\n"
                    "echo 'bwrap: No permissions to create a new namespace' >&2; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(runner, "find_bwrap", lambda: str(fake))
    monkeypatch.setattr(runner, "drops_privileges", lambda: False)
    with pytest.raises(SandboxUnavailable, match="user namespaces") as raised:
        Sandbox().run([PY, "-c", "pass"])
    assert "No permissions" in str(raised.value)


def test_unsandboxed_needs_opt_in_and_warns_every_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(allow_unsandboxed=True))
    with caplog.at_level(logging.WARNING, logger=runner.__name__):
        results = [sandbox.run([PY, "-c", "print('hi')"]) for _ in range(2)]
    assert [r.sandboxed for r in results] == [False, False]
    assert [(r.exit_code, r.stdout) for r in results] == [(0, "hi\n")] * 2
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "WITHOUT A SANDBOX" in w]) == 2


def test_unsandboxed_timeout_kills_the_process_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(timeout_s=0.5, allow_unsandboxed=True))
    result = sandbox.run([PY, "-c", "import os, time; os.fork(); time.sleep(60)"])
    assert (result.timed_out, result.killed_by, result.exit_code) == (True, "timeout", None)
    assert result.seconds < 5


def test_run_async_returns_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(allow_unsandboxed=True))
    result = asyncio.run(sandbox.run_async([PY, "-c", "import sys; print(sys.stdin.read())"],
                                           stdin=b"ping"))
    assert result.stdout == "ping\n"


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Sandbox().run([])
