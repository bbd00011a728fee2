"""Special files of a work dir are found, and covered by stand-ins in the bwrap command line."""

from __future__ import annotations

import os
import socket
from pathlib import Path, PurePosixPath

from codequorum.sandbox.argv import SEED_PATH, bwrap_argv, seen_at
from codequorum.sandbox.masks import masks_for, special_files


def test_sockets_and_fifos_are_found_links_and_files_are_not(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "file.py").write_text("x")
    os.mkfifo(tmp_path / "pkg" / "pipe")
    (tmp_path / "link").symlink_to("/dev/null")  # a link to a device is a link: never followed
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "live.sock"))
        assert sorted(special_files(tmp_path)) == [PurePosixPath("live.sock"), PurePosixPath("pkg/pipe")]


def test_each_special_file_gets_an_empty_read_only_stand_in(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with masks_for(tmp_path, SEED_PATH) as masks:
        [(stand_in, inside)] = masks
        assert inside == f"{SEED_PATH}/pipe" and stand_in.read_bytes() == b""
        assert stand_in.stat().st_mode & 0o777 == 0o444
    assert not stand_in.exists()
    with masks_for(tmp_path / "none", SEED_PATH) as masks:
        assert masks == []


def test_masks_are_bound_over_the_work_dir_and_where_it_is_seen(tmp_path: Path) -> None:
    argv = bwrap_argv("/usr/bin/bwrap", ["true"], tmp_path, system=[], work_size_mb=8,
                      masks=[(Path("/tmp/m/empty"), f"{SEED_PATH}/pipe")])
    at = argv.index(f"{SEED_PATH}/pipe")
    assert argv[at - 2:at] == ["--ro-bind", "/tmp/m/empty"] and at > argv.index(SEED_PATH)
    assert seen_at("/sandbox", 8) == SEED_PATH and seen_at("/sandbox", None) == "/sandbox"
