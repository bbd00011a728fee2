"""Write docs/configuration.md from the pydantic settings, so the page can never drift.

Run: .venv/bin/python scripts/config_docs.py > docs/configuration.md
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from codequorum.config import (
    FimTemplateConfig,
    LanguageConfig,
    MemberConfig,
    Settings,
    default_fim_templates,
    default_members,
)

INTRO = """# Configuration

codequorum reads one TOML file: `--config FILE`, else `$CODEQUORUM_CONFIG`, else
`./codequorum.toml`, else `~/.config/codequorum/config.toml` (the user config dir), else the
built-in defaults, which are the embedded ensemble below. The language server accepts the same
schema as JSON in `initializationOptions` and `workspace/didChangeConfiguration` from its stdio
client; a network client (TCP or WebSocket, loopback included) may set only the `[server]`
tuning keys and choose among the configured members and strategies ([lsp.md](lsp.md#from-the-editor)).

A bad file is refused with the file, the key and what was expected, e.g.
`codequorum.toml: invalid configuration / engine.max_tokens: Input should be a valid integer`.
Unknown keys are errors too (they are usually misspellings).

This page is generated from the code (`python scripts/config_docs.py > docs/configuration.md`);
a test fails when it is out of date.
"""

STRATEGIES_NOTE = """## `[strategies.NAME]`

Options passed to the strategy called NAME, e.g. `[strategies.best-of] samples = 2`,
`[strategies.single] member = "qwen-small"`. A strategy can also be given with its options as a
spec, `NAME:key=value:...` (`--strategy cascade:samples=1:repair=0`, or `[engine] strategy`).
Precedence, lowest first: the strategy's own defaults (docs/strategies.md), the options in the
`[engine] strategy` spec when that default is used, `[strategies.NAME]`, the options of a spec
given on the command line. `generate`, `complete` and `fix` refuse a key the strategy does not
know, or a value it cannot use (exit code 2), before any model runs. Why the shipped default is
what it is, and the command that measured it:
docs/strategies.md, "The shipped defaults".
"""

MEMBERS_NOTE = """
## `[members.NAME]`

One table per model. With `include_default_members = true` (the default) your tables are merged
into the embedded members: `[members.qwen-small] enabled = false` switches one off, a new name
adds a member. Member names should not contain dots (TOML would split the key).

| key | type | default | meaning |
|---|---|---|---|
"""


LANGUAGES_NOTE = """
## `[server.languages.NAME]`

Completion settings for the documents of one language: NAME is the language plugin's name
(python, javascript, typescript, tsx, go, rust, java, cpp) or, for other files, the editor's
language id. E.g. `[server.languages.python] inline_members = ["qwen-large"]` while every other
language keeps `[server] inline_members`. The members must exist: a name that does not is an
error when the file loads.

| key | type | default | meaning |
|---|---|---|---|
"""

FIM_TEMPLATES_NOTE = """
## `[fim_templates.NAME]`

A model's fill-in-the-middle format, for members whose `fim = "NAME"`. The built-ins below are
tables of the same form; a table of yours with a built-in's name changes only the keys it sets.
A member whose `fim` names no template is an error when the file loads. The prompt is, after any
context from other files: prefix marker, code before the cursor, suffix marker, code after it,
middle marker (`prefix-suffix-middle`), or the suffix part first (`suffix-prefix-middle`); the
model writes the missing code after the middle marker and stops at a stop string.

| key | type | default | meaning |
|---|---|---|---|
"""


def main() -> None:
    print(INTRO)
    print(_section("top level", Settings, skip={"members", "source"}, nested=False))
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            print(_section(f"[{name}]", annotation))
        if name == "server":
            print(LANGUAGES_NOTE.lstrip("\n") + "\n".join(_row(n, f) for n, f in LanguageConfig.model_fields.items())
                  + "\n")
    print(STRATEGIES_NOTE)
    print(MEMBERS_NOTE + "\n".join(_row(n, f) for n, f in MemberConfig.model_fields.items() if n != "name"))
    print(_toml_tables("The embedded default members", "members", default_members()))
    print(FIM_TEMPLATES_NOTE + "\n".join(_row(n, f) for n, f in FimTemplateConfig.model_fields.items()))
    print(_toml_tables("The built-in FIM templates", "fim_templates", default_fim_templates()))


def _toml_tables(title: str, key: str, tables: dict[str, dict[str, Any]]) -> str:
    lines = [f"\n## {title}\n\n```toml"]
    for name, values in tables.items():
        lines.append(f"[{key}.{name}]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False) if v is not None else '# (none: chat only)'}"
                  for k, v in values.items()]
        lines.append("")
    return "\n".join(lines) + "\n```"


def _section(title: str, model: type[BaseModel], skip: set[str] = frozenset(), nested: bool = True) -> str:
    rows = [_row(n, f) for n, f in model.model_fields.items() if n not in skip and _is_leaf(f)]
    header = f"## `{title}`\n" if nested else f"## {title}\n"
    return header + "\n| key | type | default | meaning |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def _is_leaf(field: FieldInfo) -> bool:
    annotation = field.annotation
    return not (isinstance(annotation, type) and issubclass(annotation, BaseModel)) and not (
        getattr(annotation, "__origin__", None) is dict
    )


def _row(name: str, field: FieldInfo) -> str:
    kind = _type_name(field.annotation)
    default = "required" if field.is_required() else \
        f"`{json.dumps(field.get_default(call_default_factory=True), default=str)}`"
    meaning = (field.description or "").replace("|", "\\|")
    return f"| `{name}` | {kind} | {default} | {meaning} |"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("pathlib.", "").replace("|", "or")


if __name__ == "__main__":
    main()
