"""`fix --apply` on a real full disk and a real read-only folder: one line, nothing half-written.

Each case runs `apply_fix` in a child process inside its own user and mount namespace
(`unshare -rm`), on a 64 KiB tmpfs mounted there: filled up to its last few bytes, or remounted
read-only. The child prints what happened as JSON; the host checks the message and that the
project holds the original file and nothing else (no temporary file, no truncated backup).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import codequorum

SRC = str(Path(codequorum.__file__).resolve().parents[1])  # the sources under test
ORIGINAL = "def add(a, b):\n    return a - b\n" * 200  # about 6 KiB: the backup needs as much room
FIXED = "def add(a, b):\n    return a + b\n" * 200
CHILD = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path, PurePosixPath
    sys.path.insert(0, {src!r})
    from codequorum.fix.apply import apply_fix

    disk = Path(sys.argv[1])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], check=True)
    project = disk / "project"
    project.mkdir()
    (project / "calc.py").write_text({original!r})
    if sys.argv[2] == "full":
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)  # all but a few hundred bytes
        try:
            while True:
                os.write(filler, b"x" * 512)
        except OSError:
            os.close(filler)
        os.truncate(disk / "filler", os.path.getsize(disk / "filler") - 300)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    try:
        apply_fix(project, PurePosixPath("calc.py"), {original!r}, {fixed!r})
        message = None
    except Exception as error:  # a CodequorumError is what the CLI prints as one line
        message = f"{{type(error).__name__}}: {{error}}"
    files = {{str(p.relative_to(project)): p.stat().st_size for p in project.rglob("*") if p.is_file()}}
    print(json.dumps({{"message": message, "files": files,
                       "original_kept": (project / "calc.py").read_text() == {original!r}}}))
""").format(src=SRC, original=ORIGINAL, fixed=FIXED)


def apply_on(kind: str, tmp_path: Path) -> dict:
    if shutil.which("unshare") is None:
        pytest.fail("`unshare` (util-linux) is needed to mount a tmpfs of the test's own")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["unshare", "-rm", sys.executable, "-c", CHILD, str(disk), kind],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(("kind", "advice"), [("full", "is full"), ("read-only", "make the folder writable")])
def test_a_disk_error_is_one_line_and_leaves_nothing_half_written(kind: str, advice: str, tmp_path: Path) -> None:
    outcome = apply_on(kind, tmp_path)
    message = outcome["message"]
    assert message is not None and message.startswith("CodequorumError: "), outcome
    assert advice in message and "nothing was applied" in message, outcome
    assert "\n" not in message and "Traceback" not in message
    assert outcome["original_kept"], outcome
    assert outcome["files"] == {"calc.py": len(ORIGINAL)}, "a partial backup or a temporary file was left"
