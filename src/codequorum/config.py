"""Settings: pydantic models for the TOML file and the LSP options (one schema for both).

Resolution order: an explicit file (`--config`), `$CODEQUORUM_CONFIG`, `./codequorum.toml`,
the user config dir, else the built-in defaults (the embedded ensemble).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.store_location import parse_location

CONFIG_FILE_NAME = "codequorum.toml"

# The shipped defaults follow the measurements (docs/results.md, docs/strategies.md), by one rule:
# the highest pass@1 on the measured frontier among systems that cost at most COST_CAP times
# the best single member's compute-seconds per problem. On the 164 HumanEval problems that is
# the cascade below over the two Qwen models: 77.4% at 43.86 compute-s, against 67.1% at 22.44
# for qwen-large alone (1.95x; the even half alone chooses it too). `repair=2` is the repair rung
# (`core/repair.py`): its rounds run only where the answer still fails its checks (+0.6 points
# over resampling alone, measured in the same run; see docs/strategies.md).
COST_CAP = 2.0
DEFAULT_STRATEGY = "cascade:samples=1:probes=6:resample=3:repair=2"
MEASURED_WITH = ("codequorum bench humaneval --members qwen-small,qwen-large --samples 3 "
                 "--temperature 0.6 --lazy-samples --out OUT "
                 "--strategies single,cascade:samples=1,cascade:samples=1:probes=6:resample=3,"
                 "cascade:samples=1:probes=6:repair=2,cascade:samples=1:probes=6:resample=3:repair=2")

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

FimOrder = Literal["prefix-suffix-middle", "suffix-prefix-middle"]

class FimTemplateConfig(_Strict):
    """`[fim_templates.NAME]`: a model's fill-in-the-middle prompt format."""

    prefix: str = Field(min_length=1, description="marker before the code before the cursor")
    suffix: str = Field(min_length=1, description="marker before the code after the cursor")
    middle: str = Field(min_length=1, description="marker after which the model writes the missing code")
    order: FimOrder = Field(
        "prefix-suffix-middle", description="prefix-suffix-middle (PSM: prefix marker, code before "
        "the cursor, suffix marker, code after it, middle marker) or suffix-prefix-middle (SPM: the "
        "suffix part first)"
    )
    stop: list[str] = Field(
        default_factory=list, description="strings that end a completion: the end-of-text token and "
        "the markers, which the model should never write"
    )
    file_sep: str | None = Field(
        None, description="marker that starts each file of context from other documents "
        "(repository-level FIM); none = context as comments"
    )

    @model_validator(mode="after")
    def _markers_differ(self) -> FimTemplateConfig:
        if len({self.prefix, self.suffix, self.middle}) != 3:
            raise ValueError("prefix, suffix and middle must be three different markers")
        if any(not stop for stop in self.stop):
            raise ValueError("a stop string must not be empty")
        return self

class MemberConfig(_Strict):
    """One configured model: which backend runs it, its prompt formats and its price."""

    name: str = ""
    enabled: bool = Field(True, description="false leaves the member out of every request")
    generate: bool = Field(
        True, description="asked for generate and fix requests when no member is named; false "
        "keeps it to completions (the embedded smollm2: as a third member it lowers the measured "
        "pass@1 of every ensemble, docs/results.md)"
    )
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
    fim: str | None = Field(
        None, description="fill-in-the-middle template: a built-in (codellama, deepseek, qwen, "
        "starcoder) or a [fim_templates.NAME] of your own; none = chat only"
    )
    chat: bool = Field(True, description="the model follows chat prompts (instruct model)")
    n_ctx: int = Field(4096, ge=256, description="context window in tokens (local backends)")
    n_threads: int | None = Field(None, ge=1, description="CPU threads; None = all cores")
    max_tokens: int | None = Field(None, ge=1, description="cap per call; None = the request's")
    draft: str | None = Field(
        None, description="llama-cpp: speculative decoding of greedy calls, the model's own answer "
        "(up to rounding at near-ties) in fewer decode steps: `prompt-lookup` (guesses from what the "
        "prompt already holds) or the name of a llama-cpp member with the same tokenizer (it "
        "guesses, this one checks); none = off. On a CPU it rarely pays: docs/results.md"
    )
    draft_tokens: int = Field(8, ge=1, le=64, description="speculative decoding: guesses per step")
    price_per_1k_tokens: float = Field(
        0.0, ge=0.0, description="cost of 1k generated tokens, one unit for all members"
    )
    quality: float = Field(0.5, ge=0.0, le=1.0, description="prior quality; highest = strongest")
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific extras")
    _fim_binding: tuple[str, FimTemplateConfig] | None = PrivateAttr(None)  # set by Settings

    @property
    def fim_template(self) -> FimTemplateConfig | None:
        """The format `fim` names, as the settings define it (a built-in for a member made on its
        own); None for a chat-only member or an unknown name."""
        if self.fim is None:
            return None
        if self._fim_binding is not None and self._fim_binding[0] == self.fim:
            return self._fim_binding[1]
        builtin = default_fim_templates().get(self.fim)
        return FimTemplateConfig.model_validate(builtin) if builtin is not None else None

    def bind_fim_template(self, template: FimTemplateConfig | None) -> None:
        """The format `fim` names, as the settings that hold this member define it."""
        self._fim_binding = (self.fim, template) if self.fim is not None and template is not None else None

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
    strategy: str = Field(
        DEFAULT_STRATEGY, description="strategy for generate and fix when none is given, as NAME "
        "or NAME:key=value:... ([strategies.NAME] overrides this spec's options). The default is "
        f"the highest pass@1 measured at <= {COST_CAP:g}x the best single member's compute-seconds "
        f"(docs/strategies.md): 77.4% on HumanEval at 1.95x, measured with `{MEASURED_WITH}`; "
        "repair=2 adds the repair rung where the answer still fails its checks (+0.6 points over "
        "resampling alone in that run)"
    )
    deadline_s: float | None = Field(
        60.0, gt=0, description="once one candidate exists, stop waiting for more after this "
        "many seconds"
    )
    hard_cap_s: float | None = Field(
        600.0, gt=0, description="with no candidate yet, keep waiting for the first one up to "
        "this many seconds (a busy machine gets a late answer rather than none)"
    )
    max_tokens: int = Field(128, ge=1, le=4096, description="generated tokens per candidate")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="sampling temperature (0 = greedy)")

    @model_validator(mode="after")
    def _strategy_spec(self) -> EngineConfig:
        try:
            parse_strategy_spec(self.strategy)
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return self

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


class DistillConfig(_Strict):
    """What `codequorum distill` learns from that other commands keep (docs/distill.md)."""

    keep_verified: bool = Field(
        True, description="keep each answer of generate (with --tests-file) and fix that passed "
        "its tests in the sandbox, with the request it answered, for codequorum distill"
    )
    verified_log: Path | None = Field(
        None, description="where those answers are kept (JSON lines, created 0600); none = "
        "verified.jsonl in the user data dir"
    )
    verified_retention_days: int | None = Field(
        90, ge=1, description="kept answers older than this many days are dropped when the log "
        "is written and are not trained on; none keeps them"
    )


class SandboxConfig(_Strict):
    timeout_s: float = Field(10.0, gt=0, description="wall-clock limit per sandboxed run")
    completion_timeout_s: float = Field(
        1.5, gt=0, description="wall-clock limit per snippet when a completion's snippets run the "
        "examples of the function around the cursor (an editor waits for them)"
    )
    memory_mb: int = Field(512, ge=32, description="address-space limit per sandboxed run")
    allow_unsandboxed: bool = Field(
        False, description="DANGEROUS: run generated code without bubblewrap when it is missing"
    )

class LanguageConfig(_Strict):
    """`[server.languages.NAME]`: completion settings for one language's documents (NAME is the
    language plugin's name, e.g. python, typescript, or the editor's language id)."""

    inline_members: list[str] | None = Field(
        None, min_length=1, description="members asked for completions in this language; "
        "none = [server] inline_members"
    )

class ServerConfig(_Strict):
    """The language server (`codequorum serve`): completion latency, context and feedback."""

    debounce_ms: int = Field(
        75, ge=0, le=5000, description="wait this long for more keystrokes before the models run"
    )
    inline_strategy: str | None = Field(
        "confidence", description="strategy for inline and classic completions: where the function "
        "around the cursor shows docstring examples, the cheapest completion member first, its "
        "snippet taken when it passes them; elsewhere (and after it) the strongest first, the next "
        "one where its snippet is empty, breaks the syntax or fails the examples (measured on the "
        "FIM benchmark, docs/results.md); none = [engine] strategy"
    )
    inline_members: list[str] | None = Field(
        None, description="members asked for completions; none = every enabled member that has "
        "a FIM template (every enabled member if none has)"
    )
    inline_deadline_s: float = Field(
        5.0, gt=0, description="once one candidate exists, a completion stops waiting for more "
        "by then"
    )
    inline_hard_cap_s: float = Field(
        30.0, gt=0, description="a completion with no candidate yet keeps waiting for the first "
        "one (or the client's cancel) up to this many seconds"
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
    warm_fallbacks: bool = Field(
        True, description="after a completion, the members its strategy did not ask read the "
        "prompt into their KV cache in the background (stopped when the models are needed), so "
        "a fallback to them at the next place in the file starts warm"
    )
    warm_on_open: bool = Field(
        True, description="when a document is opened, the local completion members read the start "
        "of its prompt into their KV cache in the background (stopped when the models are "
        "needed), so the first completion in it starts mostly warm"
    )
    inline_max_tokens: int = Field(
        256, ge=1, le=1024, description="safety bound on generated tokens for a multi-line "
        "completion (it stops where the gap ends)"
    )
    line_max_tokens: int = Field(
        64, ge=1, le=1024, description="safety bound on generated tokens when one line is "
        "completed (it stops at the line's end)"
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
    languages: dict[str, LanguageConfig] = Field(
        default_factory=dict, description="per-language settings, [server.languages.NAME]"
    )
    feedback: bool = Field(
        True, description="store shown/accepted/dismissed events: what the router and distillation learn from"
    )
    feedback_db: str | None = Field(
        None, description="where feedback lives: an SQLite file (a path, or sqlite:///PATH) or a "
        "PostgreSQL database that several servers share (postgresql://USER@HOST/DATABASE; the "
        "password from PGPASSWORD or ~/.pgpass); none = feedback.sqlite3 in the user data dir"
    )
    feedback_keep_text: bool = Field(
        True, description="store the suggestion and the prompt window around the cursor with each "
        "event (the router and distillation learn from them); false keeps only who suggested "
        "what kind of completion, in which language, and what the user did"
    )
    feedback_retention_days: int | None = Field(
        90, ge=1, description="feedback events older than this many days are deleted (when the "
        "server opens the store, then hourly); none keeps them"
    )

    @field_validator("feedback_db", mode="before")
    @classmethod
    def _a_store(cls, value: object) -> object:
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, str):
            parse_location(value)  # ValueError names the forms understood
        return value
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
    user_requests_per_second: float = Field(
        20.0, ge=0, description="network: requests one user (one token) may send per second over "
        "all its connections; more are refused with an error saying when to retry (0 = no limit)"
    )
    user_request_burst: int = Field(
        40, ge=1, description="network: requests one user may send at once above that rate "
        "(the bucket's size)"
    )
    user_max_concurrent: int = Field(
        16, ge=0, description="network: requests of one user in progress at once; more are "
        "refused until one is answered (0 = no limit)"
    )

class Settings(_Strict):
    include_default_members: bool = Field(
        True, description="merge [members.*] into the embedded members instead of replacing them"
    )
    members: dict[str, MemberConfig] = Field(default_factory=dict)
    fim_templates: dict[str, FimTemplateConfig] = Field(default_factory=dict, validate_default=True)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    strategies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    source: str = Field("built-in defaults", exclude=True)

    @field_validator("fim_templates", mode="before")
    @classmethod
    def _over_the_builtins(cls, value: object) -> object:
        """Your [fim_templates.*] are laid over the built-ins, key by key (like members)."""
        if not isinstance(value, dict):
            return value
        return _merge_tables(default_fim_templates(), value, "fim_templates", "[fim_templates.NAME]")

    @model_validator(mode="after")
    def _name_members(self) -> Settings:
        for name, member in self.members.items():
            member.name = name
        return self

    @model_validator(mode="after")
    def _bind_fim_templates(self) -> Settings:
        """A member's `fim` must name a template: found when the file loads, not at a keystroke."""
        known = ", ".join(sorted(self.fim_templates))
        for name, member in self.members.items():
            if member.fim is None:
                continue
            template = self.fim_templates.get(member.fim)
            if template is None:
                raise ValueError(f"members.{name}.fim = {member.fim!r} is not a FIM template (known: "
                                 f"{known}); define it under [fim_templates.{member.fim}]")
            member.bind_fim_template(template)
        return self

    @model_validator(mode="after")
    def _drafts_are_members(self) -> Settings:
        for name, member in self.members.items():
            if member.draft is None:
                continue
            if member.backend != "llama-cpp":
                raise ValueError(f"members.{name}.draft: speculative decoding is for llama-cpp members")
            drafting = self.members.get(member.draft)
            if member.draft != "prompt-lookup" and (
                    drafting is None or drafting.backend != "llama-cpp" or member.draft == name):
                raise ValueError(f"members.{name}.draft = {member.draft!r}: use `prompt-lookup` or the "
                                 f"name of another llama-cpp member")
        return self

    @model_validator(mode="after")
    def _language_members_exist(self) -> Settings:
        for language, table in self.server.languages.items():
            unknown = [m for m in table.inline_members or [] if m not in self.members]
            if unknown:
                raise ValueError(f"server.languages.{language}.inline_members names unknown member(s) "
                                 f"{', '.join(unknown)} (members: {', '.join(self.members) or 'none'})")
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

    def resolve_strategy(self, spec: str | None) -> tuple[str, dict[str, Any]]:
        """The strategy and its options for `spec` (NAME or NAME:key=value:...), or for the
        [engine] default when None. Options given in a spec override [strategies.NAME]; those
        of the default spec are defaults, which [strategies.NAME] overrides."""
        if spec is None:
            name, options = parse_strategy_spec(self.engine.strategy)
            return name, options | self.strategy_options(name)
        name, options = parse_strategy_spec(spec)
        return name, self.strategy_options(name) | options

    def generation_members(self) -> list[str]:
        """Members asked for generate and fix requests when none is named: the enabled ones
        with `generate = true` (every enabled member if none has it)."""
        enabled = self.enabled_members()
        chosen = [m.name for m in enabled if m.generate] or [m.name for m in enabled]
        if not chosen:
            raise ConfigError(f"{self.source}: no enabled members; add one under [members.NAME]")
        return chosen

    def inline_members_for(self, language: str | None) -> list[str] | None:
        """The members asked for a completion in `language`: its [server.languages.LANGUAGE]
        inline_members, else [server] inline_members; None leaves the choice to the server."""
        table = self.server.languages.get(language) if language else None
        if table is not None and table.inline_members is not None:
            return list(table.inline_members)
        return self.server.inline_members


def parse_strategy_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value...]` as (name, options); values read as JSON where they parse
    (`samples=3`, `fim=true`), else as text."""
    name, *pairs = spec.strip().split(":")
    if not name:
        raise ConfigError(f"strategy {spec!r}: expected NAME[:key=value...], e.g. cascade:samples=1")
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"strategy {spec!r}: expected NAME[:key=value...], got {pair!r}")
        options[key.strip()] = _option_value(value.strip())
    return name.strip(), options


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


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
                    "price_per_1k_tokens": 7.7, "n_ctx": 2048, "generate": False},
    }

def default_fim_templates() -> dict[str, dict[str, Any]]:
    """The built-in FIM formats, written as `[fim_templates.NAME]` tables are."""
    return {
        "qwen": {"prefix": "<|fim_prefix|>", "suffix": "<|fim_suffix|>", "middle": "<|fim_middle|>",
                 "stop": ["<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|fim_prefix|>",
                          "<|fim_suffix|>", "<|fim_middle|>", "<|im_end|>", "<|repo_name|>"],
                 "file_sep": "<|file_sep|>"},
        "starcoder": {"prefix": "<fim_prefix>", "suffix": "<fim_suffix>", "middle": "<fim_middle>",
                      "stop": ["<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"],
                      "file_sep": "<file_sep>"},
        "codellama": {"prefix": "<PRE> ", "suffix": " <SUF>", "middle": " <MID>", "stop": ["<EOT>", "</s>"]},
        "deepseek": {"prefix": "<｜fim▁begin｜>", "suffix": "<｜fim▁hole｜>", "middle": "<｜fim▁end｜>",
                     "stop": ["<｜end▁of▁sentence｜>", "<|EOT|>"]},
    }

def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir("codequorum")) / "config.toml"

def find_config_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        return explicit
    named = os.environ.get("CODEQUORUM_CONFIG")
    if named:
        if not Path(named).is_file():
            raise ConfigError(f"CODEQUORUM_CONFIG names {named}, which does not exist "
                              "(unset it, or point it at a configuration file)")
        return Path(named)
    for candidate in (CONFIG_FILE_NAME, user_config_path()):
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
    try:
        return _merge_tables(defaults, overrides, "members", "[members.NAME]")
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None

def _merge_tables(defaults: dict[str, dict[str, Any]], overrides: Any, key: str, form: str) -> dict[str, Any]:
    """`overrides` laid over `defaults`: a known name's keys update it, a new name is added."""
    if not isinstance(overrides, dict):
        raise ValueError(f"`{key}` must be a table of {form} sections")
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
        detail = detail.removeprefix("Value error, ")
        if not problem["loc"]:
            lines.append(f"  {detail}")  # a check across tables: the message names the keys
            continue
        lines.append(f"  {key}: {detail} (got {got!r})" if got is not None else f"  {key}: {detail}")
    return "\n".join(lines)

StrategyName = Literal["single", "best-of"]
