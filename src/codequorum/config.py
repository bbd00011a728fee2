"""Settings: pydantic models for the TOML file and the LSP options (one schema for both).

Resolution order: an explicit file (`--config`), `$CODEQUORUM_CONFIG`, `./codequorum.toml`,
the user config dir, else the built-in defaults (the embedded ensemble).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from codequorum.vocabulary.errors import ConfigError

CONFIG_FILE_NAME = "codequorum.toml"

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

class MemberConfig(_Strict):
    """One configured model: which backend runs it, its prompt formats and its price."""

    name: str = ""
    enabled: bool = Field(True, description="false leaves the member out of every request")
    backend: str = Field(
        "llama-cpp", description="backend plugin: llama-cpp, openai, vllm, transformers, …"
    )
    model: str | None = Field(
        None, description="llama-cpp: embedded model id (`codequorum models list`); "
        "openai: the model name the server serves; vllm, transformers: a Hugging Face model id "
        "or directory (transformers also takes an embedded model id)"
    )
    path: Path | None = Field(
        None, description="a model file or directory of your own (GGUF for llama-cpp; "
        "a GGUF file or model directory for transformers)"
    )
    base_url: str | None = Field(None, description="openai: e.g. http://gpu-1:8000/v1")
    api_key_env: str | None = Field(None, description="openai: environment variable with the key")
    connect_timeout_s: float = Field(3.0, gt=0, description="HTTP backends: connect timeout")
    read_timeout_s: float = Field(60.0, gt=0, description="HTTP backends: timeout between reads")
    retries: int = Field(2, ge=0, le=10, description="retries for transient errors, with backoff")
    retry_backoff_s: float = Field(
        0.25, gt=0, description="pause before the first retry; doubles each retry (with jitter)"
    )
    circuit_failures: int = Field(
        5, ge=0, description="consecutive failed attempts that open the member's circuit (0 = never)"
    )
    circuit_cooldown_s: float = Field(
        30.0, gt=0, description="an open circuit skips the member this long, then probes it once"
    )
    fim: str | None = Field(None, description="fill-in-the-middle template name, None = chat only")
    chat: bool = Field(True, description="the model follows chat prompts (instruct model)")
    n_ctx: int = Field(4096, ge=256, description="context window in tokens (local backends)")
    n_threads: int | None = Field(None, ge=1, description="CPU threads; None = all cores")
    max_tokens: int | None = Field(None, ge=1, description="cap per call; None = the request's")
    price_per_1k_tokens: float = Field(
        0.0, ge=0.0, description="cost of 1k generated tokens, one unit for all members"
    )
    quality: float = Field(0.5, ge=0.0, le=1.0, description="prior quality; highest = strongest")
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific extras")

    @model_validator(mode="after")
    def _needs_a_model(self) -> MemberConfig:
        if self.backend == "llama-cpp" and self.model is None and self.path is None:
            raise ValueError("a llama-cpp member needs `model` (an embedded id) or `path`")
        if self.backend == "openai" and (self.base_url is None or self.model is None):
            raise ValueError("an openai member needs `base_url` and `model`")
        if self.backend in ("vllm", "transformers") and self.model is None and self.path is None:
            raise ValueError(f"a {self.backend} member needs `model` (a model id) or `path`")
        return self

class EngineConfig(_Strict):
    strategy: str = Field("best-of", description="strategy plugin used when none is given")
    deadline_s: float | None = Field(60.0, gt=0, description="wall-clock budget per request")
    max_tokens: int = Field(128, ge=1, le=4096, description="generated tokens per candidate")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="sampling temperature (0 = greedy)")

class SchedulerConfig(_Strict):
    local_slots: int = Field(1, ge=1, description="local CPU models that may generate at once")

class ModelsConfig(_Strict):
    cache_dir: Path | None = Field(None, description="where assembled model files live")

class PluginsConfig(_Strict):
    disabled: list[str] = Field(default_factory=list, description='e.g. ["checks.syntax"]')

class RankingConfig(_Strict):
    rule: Literal["mean", "worst", "uncertainty"] = Field(
        "mean", description="how scorers are combined: mean, worst (most pessimistic), "
        "uncertainty (mean minus k times the scorers' spread)"
    )
    uncertainty_k: float = Field(1.0, ge=0.0, description="k for the uncertainty rule")
    listwise: bool = Field(True, description="use the trained listwise ranker as a scorer")
    listwise_weights: Path | None = Field(
        None, description="weights of a listwise ranker you trained (scripts/train_ranker.py); "
        "none = the shipped ones"
    )
    codebertscore: bool = Field(
        False, description="add CodeBERTScore agreement as a scorer (needs the similarity extra)"
    )
    codebertscore_encoder: Path | None = Field(
        None, description="local encoder directory for CodeBERTScore; none = the bundled MiniLM"
    )


class SandboxConfig(_Strict):
    timeout_s: float = Field(10.0, gt=0, description="wall-clock limit per sandboxed run")
    memory_mb: int = Field(512, ge=32, description="address-space limit per sandboxed run")
    allow_unsandboxed: bool = Field(
        False, description="DANGEROUS: run generated code without bubblewrap when it is missing"
    )

class ServerConfig(_Strict):
    """The language server (`codequorum serve`): completion latency, context and feedback."""

    debounce_ms: int = Field(
        75, ge=0, le=5000, description="wait this long for more keystrokes before the models run"
    )
    inline_strategy: str | None = Field(
        None, description="strategy for inline and classic completions; none = [engine] strategy"
    )
    inline_members: list[str] | None = Field(
        None, description="members asked for completions; none = every enabled member that has "
        "a FIM template (every enabled member if none has)"
    )
    inline_deadline_s: float = Field(
        5.0, gt=0, description="a completion answers with the best candidate finished by then"
    )
    inline_settle_ratio: float = Field(
        0.1, ge=0, description="once the fastest member has answered a completion, wait for the "
        "others at most this fraction of its time more"
    )
    inline_wait_for_all: bool = Field(
        False, description="a completion waits for every member (up to the deadline) instead of "
        "settling soon after the fastest"
    )
    background_refine: bool = Field(
        True, description="members cut short by the settle ratio finish in the background and "
        "improve the cached answer that repeated and typed-through requests get"
    )
    inline_max_tokens: int = Field(
        48, ge=1, le=1024, description="generated tokens per candidate for a multi-line completion"
    )
    line_max_tokens: int = Field(
        24, ge=1, le=1024, description="generated tokens per candidate when one line is completed"
    )
    prefix_chars: int = Field(
        1200, ge=200, le=5000, description="text before the cursor that a completion prompt shows"
    )
    suffix_chars: int = Field(
        400, ge=0, le=2000, description="text after the cursor that a completion prompt shows"
    )
    context_chars: int = Field(
        600, ge=0, le=8000, description="snippets from other open documents, in characters (0 = none)"
    )
    alternatives: int = Field(
        3, ge=0, le=10, description="ranked alternatives returned after the best suggestion"
    )
    cache_size: int = Field(
        256, ge=0, description="completions kept for repeated and typed-through requests (0 = off)"
    )
    generate_strategy: str | None = Field(
        None, description="strategy for the generate command; none = [engine] strategy"
    )
    generate_max_tokens: int = Field(
        384, ge=1, le=4096, description="generated tokens per candidate for the generate command"
    )
    fix_test_command: str = Field(
        "python -m pytest -q", description="test command of the fix command and code action, run "
        "in the sandbox from the project root"
    )
    fix_members: list[str] | None = Field(
        None, description="members asked by the fix command; none = every enabled member"
    )
    warm_up: bool = Field(
        True, description="load the completion members' models as soon as a client is initialized"
    )
    feedback: bool = Field(True, description="store shown/accepted/dismissed events for the router")
    feedback_db: Path | None = Field(
        None, description="SQLite file for feedback; none = feedback.sqlite3 in the user data dir"
    )
    client_test_command: Literal["stdio", "always", "never"] = Field(
        "stdio", description="who may send its own test command with codequorum.fix: stdio (only "
        "the editor that started the server over stdio), always (network clients too: they run "
        "commands of their choice on the server), never (fix_test_command only)"
    )
    handshake_timeout_s: float = Field(
        10.0, gt=0, description="network: a connection that has not sent initialize (with the "
        "token, when one is required) within this time is dropped"
    )
    max_connections: int = Field(
        64, ge=1, description="network: connections served at once; more are closed on arrival"
    )
    max_unauthenticated: int = Field(
        8, ge=1, description="network: connections at once that have not initialized yet"
    )
    initialize_max_message_kb: int = Field(
        1024, ge=16, description="network: the largest message accepted before initialize "
        "succeeds; a larger Content-Length closes the connection without reading the body"
    )
    max_message_mb: int = Field(
        64, ge=1, description="network: the largest message (a TCP message or a WebSocket "
        "message) accepted from an initialized client"
    )
    write_queue_mb: int = Field(
        64, ge=1, description="network: data waiting for a client that does not read; a client "
        "with more waiting is disconnected"
    )

class Settings(_Strict):
    include_default_members: bool = Field(
        True, description="merge [members.*] into the embedded members instead of replacing them"
    )
    members: dict[str, MemberConfig] = Field(default_factory=dict)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    strategies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    source: str = Field("built-in defaults", exclude=True)

    @model_validator(mode="after")
    def _name_members(self) -> Settings:
        for name, member in self.members.items():
            member.name = name
        return self

    def enabled_members(self) -> list[MemberConfig]:
        return [m for m in self.members.values() if m.enabled]

    def strongest_member(self) -> MemberConfig:
        members = self.enabled_members()
        if not members:
            raise ConfigError(f"{self.source}: no enabled members; add one under [members.NAME]")
        return max(members, key=lambda m: m.quality)

    def strategy_options(self, strategy: str) -> dict[str, Any]:
        return dict(self.strategies.get(strategy, {}))

def default_members() -> dict[str, dict[str, Any]]:
    """The embedded ensemble: model files that ship in pinned PyPI packages.

    Quality priors are HumanEval pass@1 measured here; prices are compute-seconds per 1k
    generated tokens on a 2-core CPU, so cost compares members honestly.
    """
    return {
        "qwen-large": {"model": "qwen2.5-coder-1.5b", "fim": "qwen", "quality": 0.70,
                      "price_per_1k_tokens": 33.0},
        "qwen-small": {"model": "qwen2.5-coder-0.5b", "fim": "qwen", "quality": 0.54,
                      "price_per_1k_tokens": 21.0},
        "smollm2": {"model": "smollm2-135m", "fim": None, "quality": 0.04,
                    "price_per_1k_tokens": 7.7, "n_ctx": 2048},
    }

def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir("codequorum")) / "config.toml"

def find_config_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        return explicit
    candidates = [os.environ.get("CODEQUORUM_CONFIG"), CONFIG_FILE_NAME, user_config_path()]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None

def load_settings(explicit: Path | None = None) -> Settings:
    path = find_config_file(explicit)
    if path is None:
        return settings_from_dict({}, source="built-in defaults")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from error
    return settings_from_dict(data, source=str(path))

def settings_from_dict(data: dict[str, Any], source: str) -> Settings:
    """Validate user data (TOML or LSP options) on top of the defaults."""
    merged = dict(data)
    if merged.get("include_default_members", True):
        merged["members"] = _merge_members(default_members(), data.get("members", {}), source)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from error
    settings.source = source
    return settings

def _merge_members(
    defaults: dict[str, dict[str, Any]], overrides: Any, source: str
) -> dict[str, Any]:
    if not isinstance(overrides, dict):
        raise ConfigError(f"{source}: `members` must be a table of [members.NAME] sections")
    merged: dict[str, Any] = {name: dict(values) for name, values in defaults.items()}
    for name, values in overrides.items():
        if isinstance(values, dict) and name in merged:
            merged[name].update(values)
        else:
            merged[name] = values
    return merged

def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        got = problem.get("input")
        detail = problem["msg"]
        if problem["type"] == "extra_forbidden":
            detail = "unknown key (check the spelling; see docs/configuration.md)"
        lines.append(f"  {key}: {detail} (got {got!r})" if got is not None else f"  {key}: {detail}")
    return "\n".join(lines)

StrategyName = Literal["single", "best-of"]
