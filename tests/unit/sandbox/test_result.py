"""SandboxResult serialisation."""

from __future__ import annotations

import json

from codequorum.sandbox import SandboxResult


def test_to_json_dict_has_every_field_and_is_json() -> None:
    result = SandboxResult(exit_code=None, stdout="a", stderr="b", timed_out=True, killed_by="timeout",
                           seconds=1.5, stdout_truncated=False, stderr_truncated=True, sandboxed=True)
    data = result.to_json_dict()
    assert json.loads(json.dumps(data)) == data
    assert {"exit_code", "stdout", "stderr", "timed_out", "killed_by", "seconds"} <= data.keys()
    assert data["stderr_truncated"] is True and data["sandboxed"] is True
    assert not result.ok
