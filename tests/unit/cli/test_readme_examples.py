"""Every `codequorum` example in the README parses as the CLI would parse it, from the folder the
README is in at that point (`cd` lines are followed), and every file it names exists: a newcomer
can paste them on a fresh clone. Nothing runs: the commands are parsed, not invoked."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer.main

from codequorum.cli.app import app

ROOT = Path(__file__).resolve().parents[3]
FENCE = re.compile(r"```bash\n(.*?)```", re.DOTALL)


def readme_commands() -> list[tuple[Path, list[str]]]:
    """(working directory, argv after `codequorum`) for each example, in README order."""
    found, cwd = [], ROOT
    for block in FENCE.findall((ROOT / "README.md").read_text()):
        for line in _logical_lines(block):
            for part in re.split(r"\s*&&\s*", line):
                words = shlex.split(part, comments=True)
                if words[:1] == ["cd"]:
                    cwd = (cwd / words[1]).resolve()
                elif words[:1] == ["codequorum"]:
                    found.append((cwd, words[1:]))
    return found


def _logical_lines(block: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def parse(argv: list[str]) -> click.Context:
    """The context click builds for `argv` (options checked, paths checked for existence)."""
    command: click.Command = typer.main.get_command(app)
    context = command.make_context("codequorum", list(argv), resilient_parsing=False)
    while isinstance(command, click.Group) and context.protected_args:
        name, command, rest = command.resolve_command(context, context.protected_args + context.args)
        context = command.make_context(name, rest, parent=context)
    return context


COMMANDS = readme_commands()


def test_the_readme_has_the_examples_a_newcomer_tries():
    names = [" ".join(argv[:1]) for _, argv in COMMANDS]
    assert {"complete", "generate", "fix", "sandbox", "bench", "models"} <= set(names)
    fixes = [(cwd, argv) for cwd, argv in COMMANDS if argv[0] == "fix"]
    project = ROOT / "examples" / "calc"
    # never the repo's own suite: every fix target lies in the example project
    assert fixes and all((cwd / argv[1]).resolve().is_relative_to(project) for cwd, argv in fixes)


@pytest.mark.parametrize("cwd, argv", COMMANDS, ids=[" ".join(argv)[:60] for _, argv in COMMANDS])
def test_each_readme_example_parses_and_names_files_that_exist(cwd, argv, monkeypatch):
    monkeypatch.chdir(cwd)
    parse(argv)  # click.BadParameter / UsageError when an option or a path is wrong
    for word in argv:
        if not word.startswith("-") and re.search(r"\.(py|toml|jsonl)$", word):
            assert (cwd / word).exists(), f"{' '.join(argv)}: {word} does not exist in {cwd}"
