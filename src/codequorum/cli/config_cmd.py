"""`codequorum config`: print a complete, commented configuration file to start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from codequorum.cli.errors import user_errors
from codequorum.config import COST_CAP, MEASURED_WITH, Settings, settings_from_dict

app = typer.Typer(help="Write and inspect configuration files.", no_args_is_help=True)

HEADER = """\
# codequorum configuration: every setting, set to its default.
# Save it as ./codequorum.toml or ~/.config/codequorum/config.toml, or pass --config FILE.
# Written by `codequorum config example`; docs/configuration.md explains every key.
# A line starting with `# key =` is a setting without a value (none); remove the `#` to set it.
"""

STRATEGIES_NOTE = f"""\
# Why these defaults (docs/strategies.md, "The shipped defaults"): [engine] strategy is chosen by
# one rule, the highest pass@1 on the measured frontier among systems that cost at most
# {COST_CAP:g}x the best single member's compute-seconds per problem. On the 164 HumanEval problems
# (docs/results.md) that is `cascade:samples=1:probes=6:resample=3:repair=2` over qwen-small and
# qwen-large: 77.4% at 43.86 compute-s, against 67.1% at 22.44 for qwen-large alone (1.95x),
# measured with
#   {MEASURED_WITH}
# `repair=2` is up to two repair rounds where the answer still fails its tests (+0.6 points over
# resampling alone in the same run; bounded: two calls of the strongest member, only there). smollm2 has `generate = false`: as a third member it
# lowered every measured ensemble (best-of 71.3% -> 68.9%, cascade:samples=1:resample=3
# 75.6% -> 74.4%). Completions use [server] inline_strategy = "confidence": where the function
# shows docstring examples the cheapest member first, taken when its snippet passes them; else the
# strongest first, the next where its snippet is empty, breaks the syntax or fails the examples
# (the FIM benchmark, docs/results.md).
#
# Options for one strategy go in [strategies.NAME] (they override those of the [engine] spec), e.g.:
# [strategies.cascade]
# repair = 1
# [strategies.single]
# member = "qwen-small"
"""

REMOTE_DEFAULTS: dict[str, Any] = {
    "backend": "openai",
    "fim": "qwen",
    "quality": 0.85,
    "price_per_1k_tokens": 10.0,
}


@app.command("example")
def example(
    remote: str | None = typer.Option(
        None, "--remote", metavar="URL",
        help="Add a member `remote` on an OpenAI-compatible server, e.g. http://gpu-1:8000/v1.",
    ),
    remote_model: str = typer.Option(
        "Qwen/Qwen2.5-Coder-7B-Instruct", "--remote-model",
        help="The model name the remote server serves (vLLM: the name given to `vllm serve`).",
    ),
) -> None:
    """Print the embedded members and every section with its defaults, as TOML."""
    with user_errors():
        typer.echo(example_toml(remote, remote_model), nl=False)


def example_toml(remote: str | None = None, remote_model: str = "") -> str:
    """A configuration file that loads back to the defaults (plus the remote member)."""
    members = {"remote": REMOTE_DEFAULTS | {"base_url": remote, "model": remote_model}} if remote else {}
    settings = settings_from_dict({"members": members}, source="codequorum config example")
    nested = [name for name, f in Settings.model_fields.items() if _is_section(f.annotation)]
    tables = [_table(None, settings, skip={"members", "fim_templates", "strategies", "source", *nested})]
    tables += [_table(f"[{name}]", getattr(settings, name)) for name in nested]
    tables.append(STRATEGIES_NOTE)
    tables += [_table(f"[fim_templates.{name}]", t) for name, t in settings.fim_templates.items()]
    tables += [_table(f"[members.{name}]", m, skip={"name"}) for name, m in settings.members.items()]
    return HEADER + "\n" + "\n".join(tables)


def _table(header: str | None, model: BaseModel, skip: frozenset[str] | set[str] = frozenset()) -> str:
    lines = [header] if header else []
    for name, field in type(model).model_fields.items():
        if name in skip:
            continue
        if field.description:
            lines.append(f"# {field.description}")
        value = getattr(model, name)
        lines.append(f"# {name} =" if value is None else f"{name} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {value!r}")


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
