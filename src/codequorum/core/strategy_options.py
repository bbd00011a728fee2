"""Typed strategy options: a strategy declares `Options`, a strict pydantic model, and its
options are checked against it wherever they come from ([strategies.NAME] tables, a bench
spec such as `cascade:threshold=0.5`, a request's own options).

A third-party strategy without `Options` gets its options as a plain dict, as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from codequorum.vocabulary.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


class StrategyOptions(BaseModel):
    """What every strategy takes; a strategy's `Options` adds its own keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    prompt_forms: list[str] | None = None  # any strategy: read by the context (core/prompt_forms.py)


def options_model(strategy: type) -> type[BaseModel] | None:
    """The strategy's declared options model, or None for one that takes a plain dict."""
    model = getattr(strategy, "Options", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def parse_options(name: str, model: type[Model], options: Model | Mapping[str, Any]) -> Model:
    """`options` checked against `model`; a ConfigError names the strategy and what is wrong."""
    if isinstance(options, model):
        return options
    try:
        return model.model_validate(dict(options))
    except ValidationError as error:
        raise ConfigError(describe(name, model, error)) from None


def strategy_options(name: str, strategy: type, options: Mapping[str, Any]) -> Any:
    """What the strategy is constructed with: its typed options, or a dict when it has no model."""
    model = options_model(strategy)
    return dict(options) if model is None else parse_options(name, model, options)


def options_key(options: Mapping[str, Any]) -> str:
    """The same options give the same key, whatever their order."""
    return json.dumps(options, sort_keys=True, default=repr)


def describe(name: str, model: type[BaseModel], error: ValidationError) -> str:
    """E.g. "cascade: unknown option 'treshold' (allowed: probes, resample, samples, ...)"."""
    allowed = ", ".join(sorted(model.model_fields))
    problems = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "extra_forbidden":
            problems.append(f"unknown option {key!r} (allowed: {allowed})")
        elif problem["type"] == "value_error" and not key:
            problems.append(str(problem["ctx"]["error"]))  # a rule over several options
        else:
            problems.append(f"option {key!r}: {problem['msg']} (got {problem.get('input')!r})")
    return f"{name}: " + "; ".join(problems)
