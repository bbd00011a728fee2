"""`codequorum distill`: the cheap member fine-tuned on the ensemble's verified answers."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from codequorum.cli.errors import user_errors
from codequorum.cli.progress import ConsoleListener
from codequorum.config import Settings, find_config_file, load_settings, user_config_path

console = Console()


def distill(
    collection: list[Path] = typer.Option(
        None, "--collection", help="A bench collection (collection.jsonl of `codequorum bench`, or "
        "data/humaneval-greedy.jsonl.gz); repeat for several. Only candidates that passed their "
        "hidden tests are used."),
    forms: str = typer.Option(
        "chat", "--forms", help="How the verified answers (collections, --verified) are asked: chat (the bench's "
        "prompt), fim (one gap cut from the body of each answer, asked as an editor asks), or chat,fim."),
    feedback_db: str | None = typer.Option(
        None, "--feedback-db", help="A feedback store whose accepted completions to train on "
        "(default: the configuration's server feedback_db, when --feedback)."),
    feedback: bool = typer.Option(False, "--feedback/--no-feedback",
                                  help="Also train on completions users accepted."),
    verified: bool = typer.Option(
        False, "--verified/--no-verified", help="Also train on the answers `generate --tests-file` "
        "and `fix` kept once their tests passed in the sandbox ([distill] keep_verified)."),
    verified_log: Path | None = typer.Option(
        None, "--verified-log", dir_okay=False, help="The log those answers are in (default: the "
        "configuration's [distill] verified_log, else verified.jsonl in the user data dir); implies --verified."),
    problems_half: str = typer.Option(
        "even", "--problems-half", help="even, odd or all: train on this half of the suite's problems "
        "(the bench's halves), leave the other for evaluation."),
    suite: Path | None = typer.Option(None, "--suite", exists=True, dir_okay=False,
                                      help="The collection's problems as JSONL (default: HumanEval)."),
    student: str = typer.Option("qwen-small", "--student", help="The member to distill into."),
    teachers: str = typer.Option("qwen-large", "--teachers",
                                 help="Comma-separated teacher members (sharing the student's tokenizer)."),
    fusion: str = typer.Option("min-ce", "--fusion", help="min-ce or avg-ce: how teachers are fused."),
    ce_weight: float = typer.Option(0.5, "--ce-weight", min=0.0, max=1.0,
                                    help="λ of eq. 9: the verified answer's share (1 = no teachers)."),
    rank: int = typer.Option(8, "--rank", min=1, help="LoRA rank."),
    alpha: float = typer.Option(16.0, "--alpha", help="LoRA alpha."),
    steps: int = typer.Option(200, "--steps", min=1, help="Optimizer steps."),
    accumulate: int = typer.Option(4, "--accumulate", min=1, help="Examples per step."),
    learning_rate: float = typer.Option(2e-4, "--learning-rate"),
    checkpoint_every: int = typer.Option(25, "--checkpoint-every", min=1, help="Steps between checkpoints."),
    max_examples: int | None = typer.Option(None, "--max-examples", min=1, help="Cap on examples, taken in turn from each source (a small source is kept whole)."),
    max_length: int = typer.Option(768, "--max-length", min=32, help="Longest example in tokens."),
    top_k: int = typer.Option(32, "--top-k", min=1, help="Teacher tokens kept per position."),
    validation_share: float = typer.Option(0.2, "--validation-share", min=0.0, max=0.9,
                                           help="Share of the training half's problems kept to choose λ."),
    lambdas: str = typer.Option("0,0.25,0.5,0.75,1,1.25", "--lambdas", help="The merge λ grid."),
    merge_lambda: float | None = typer.Option(None, "--merge-lambda", help="Merge at this λ (no curve)."),
    merged_type: str = typer.Option("f16", "--merged-type", help="f16 or q8_0: how changed tensors are written."),
    member_name: str = typer.Option("qwen-small-distilled", "--member-name"),
    register: bool = typer.Option(False, "--register", help="Append the new member to the configuration file (--config, else the one in use, else the user's)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, … (default: cuda when present)."),
    threads: int | None = typer.Option(None, "--threads", min=1, help="CPU threads for the teachers."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(Path("distill-out"), "--out", help="Folder for caches, checkpoints and the model."),
    config: Path | None = typer.Option(None, "--config", help="Configuration file (TOML)."),
) -> None:
    """Fine-tune the cheap member (LoRA) on verified answers and the fused teachers'
    distributions, merge the task vector at the λ the validation split prefers, write a GGUF
    beside the original (never over it) and print the member that runs it. Rerun the same
    command to resume."""
    from codequorum.bench.problems import from_jsonl, humaneval
    from codequorum.distill.examples import FORMS
    from codequorum.distill.fusion import FUSIONS
    from codequorum.distill.gguf_merge import MERGED_TYPES
    from codequorum.distill.halves import HALVES
    from codequorum.distill.pipeline import DistillPlan
    from codequorum.distill.pipeline import distill as run_distill
    from codequorum.distill.student import LoraShape
    from codequorum.distill.train import TrainSettings
    from codequorum.server.feedback_store import default_feedback_path
    from codequorum.stores.verified import verified_path
    from codequorum.vocabulary.errors import CodequorumError

    with user_errors():
        _one_of("--problems-half", problems_half, HALVES)
        _one_of("--fusion", fusion, FUSIONS)
        _one_of("--merged-type", merged_type, MERGED_TYPES)
        asked = tuple(dict.fromkeys(f.strip() for f in forms.split(",") if f.strip()))
        for form in asked or ("",):
            _one_of("--forms", form, FORMS)
        settings = load_settings(config)
        store = (feedback_db or settings.server.feedback_db or default_feedback_path()) if feedback else None
        kept = (verified_log or verified_path(settings.distill)) if verified or verified_log else None
        try:
            grid = tuple(float(value) for value in lambdas.split(","))
        except ValueError:
            raise CodequorumError(f"--lambdas {lambdas!r}: give numbers separated by commas") from None
        plan = DistillPlan(
            out=out, suite=from_jsonl(suite) if suite else humaneval(), collections=tuple(collection or ()),
            forms=asked,  # type: ignore[arg-type]
            feedback=store, verified=kept, verified_retention_days=settings.distill.verified_retention_days,
            student=student, teachers=tuple(t for t in teachers.split(",") if t),
            fusion=fusion, half=problems_half, validation_share=validation_share,  # type: ignore[arg-type]
            max_examples=max_examples, max_length=max_length, top_k=top_k, lora=LoraShape(rank, alpha),
            training=TrainSettings(steps, accumulate, learning_rate, ce_weight, checkpoint_every, seed),
            lambdas=grid, merge_lambda=merge_lambda, merged_type=merged_type,  # type: ignore[arg-type]
            member_name=member_name, register_in=(find_config_file(config) or user_config_path()) if register else None,
            device=device, n_threads=threads)
        report = run_distill(settings, plan, ConsoleListener(console))
    console.print(f"seconds by stage: {report.seconds}; CPU seconds: {report.cpu_seconds}", highlight=False)
    if not register:
        console.print("Add the new member to your configuration (or rerun with --register):", highlight=False)
    console.print(report.member, markup=False, highlight=False, soft_wrap=True)  # TOML to copy: never wrapped
    console.print(f"To ask it for inline completions in {student}'s place:\n[server]\n"
                  f"inline_members = {json.dumps(_inline_members_with(settings, student, member_name))}",
                  markup=False, highlight=False, soft_wrap=True)


def _inline_members_with(settings: Settings, student: str, distilled: str) -> list[str]:
    """The members the server asks for completions, the distilled member in the student's place."""
    current = settings.server.inline_members or [m.name for m in settings.enabled_members() if m.fim]
    chosen = [distilled if name == student else name for name in current]
    return chosen if distilled in chosen else [distilled, *chosen]


def _one_of(option: str, value: str, allowed: tuple[str, ...]) -> None:
    from codequorum.vocabulary.errors import CodequorumError

    if value not in allowed:
        raise CodequorumError(f"{option} {value!r}: choose one of {', '.join(allowed)}")


