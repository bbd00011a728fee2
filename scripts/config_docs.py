"""Write docs/configuration.md from the pydantic settings, so the page can never drift.

Run: .venv/bin/python scripts/config_docs.py > docs/configuration.md
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from codequorum.config import MemberConfig, Settings, default_members

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

MEMBERS_NOTE = """
## `[members.NAME]`

One table per model. With `include_default_members = true` (the default) your tables are merged
into the embedded members: `[members.qwen-small] enabled = false` switches one off, a new name
adds a member. Member names should not contain dots (TOML would split the key).

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
    print("## `[strategies.NAME]`\n\nOptions passed to the strategy called NAME, e.g. "
          "`[strategies.best-of] samples = 2`, `[strategies.single] member = \"qwen-small\"`.\n")
    print(MEMBERS_NOTE + "\n".join(_row(n, f) for n, f in MemberConfig.model_fields.items() if n != "name"))
    print("\n## The embedded default members\n\n```toml")
    for name, values in default_members().items():
        print(f"[members.{name}]")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value) if value is not None else '# (none: chat only)'}")
        print()
    print("```")


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
    default = field.get_default(call_default_factory=True)
    meaning = (field.description or "").replace("|", "\\|")
    return f"| `{name}` | {kind} | `{json.dumps(default, default=str)}` | {meaning} |"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("pathlib.", "").replace("|", "or")


if __name__ == "__main__":
    main()
