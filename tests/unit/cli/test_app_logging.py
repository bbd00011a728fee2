"""Warnings on the terminal: one plain line each (no timestamp, no logger name), never twice."""

from __future__ import annotations

import logging

from codequorum.cli.app import main


def test_a_warning_is_one_plain_line_and_is_said_once(capsys):
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        root.handlers[:] = []  # a fresh process: nothing configured logging yet
        main(verbose=False, version=False)  # the callback every command runs first
        for _ in range(3):
            logging.getLogger("codequorum.test").warning("the cache at %s is stale", "/x")
        handler = root.handlers[0]
        lines = [r for r in capsys.readouterr().err.splitlines() if "stale" in r]
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    assert lines == ["warning: the cache at /x is stale"]
    assert isinstance(handler, logging.StreamHandler)


def test_a_program_that_configured_logging_itself_keeps_its_configuration():
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    own = logging.StreamHandler()
    try:
        root.handlers[:] = [own]
        main(verbose=False, version=False)
        assert root.handlers == [own]
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
