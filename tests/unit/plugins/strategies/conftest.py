"""Fixtures shared by the strategy tests."""

from __future__ import annotations

import pytest

from codequorum.testing.probes import Probes


@pytest.fixture
def probe_values(monkeypatch):
    """Probe calls written and run by table: candidate text → its values on the calls."""
    table: dict[str, list[str]] = {}
    written: list[str] = []

    async def write_probes(ctx, writer, count, candidates=()):
        written.append(writer.name)
        return Probes(("f(1)", "f(2)"), ())

    async def record_probes(request, candidates, calls, limits):
        for candidate in candidates:
            values = table.get(candidate.text.strip())
            candidate.evidence.probed = True
            candidate.evidence.probes = tuple(values) if values is not None else None

    monkeypatch.setattr("codequorum.core.writers.write_probes", write_probes)
    monkeypatch.setattr("codequorum.core.writers.record_probes", record_probes)
    table["writers"] = written
    return table
