"""`codequorum distill` from start to end: examples, teachers, LoRA, λ, merged GGUF, member.

Every stage is resumable: teacher distributions are cached per example, the adapter is
checkpointed every N steps, and a stage that has nothing left to do costs nothing on a rerun.
Only one model is in memory at a time (each teacher in llama.cpp, then the student).
"""

from __future__ import annotations

import hashlib
import json
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from codequorum.bench.problems import Problem
from codequorum.config import MemberConfig, Settings
from codequorum.distill import examples as select
from codequorum.distill.encode import EncodedExample, encode_all
from codequorum.distill.fusion import Fusion, FusedTarget, fuse
from codequorum.distill.gguf_merge import MergedType, merge_gguf, tensor_count
from codequorum.distill.halves import Half, in_half, is_validation, other_half
from codequorum.distill.member import member_table, register, write_checksum
from codequorum.distill.sources import accepted_feedback, collection_records, verified_answers
from codequorum.distill.student import LoraShape, Student, load_student, load_tokenizer
from codequorum.distill.teachers import Teacher, TeacherCache, fill_cache
from codequorum.distill.train import TrainSettings, latest_adapter, train
from codequorum.distill.validation import DEFAULT_GRID, LambdaPoint, best_lambda, lambda_curve
from codequorum.models.catalog import CATALOG
from codequorum.models.store import ModelStore, sha256_of
from codequorum.vocabulary.errors import CodequorumError


class Listener(Protocol):
    def note(self, line: str) -> None: ...

    def task(self, description: str, total: int) -> AbstractContextManager[Callable[[str], None]]: ...


@dataclass(frozen=True)
class DistillPlan:
    out: Path
    suite: Sequence[Problem]  # the problems the collections answer (HumanEval)
    collections: tuple[Path, ...] = ()
    forms: tuple[select.Form, ...] = ("chat",)  # how the collections' verified answers are asked
    feedback: str | Path | None = None  # a feedback store, or None to leave feedback out
    verified: Path | None = None  # the verified-answer log of generate and fix, or None to leave it out
    verified_retention_days: int | None = 90
    student: str = "qwen-small"
    teachers: tuple[str, ...] = ("qwen-large",)
    fusion: Fusion = "min-ce"
    half: Half = "even"
    validation_share: float = 0.2
    max_examples: int | None = None
    max_length: int = 768
    top_k: int = 32
    lora: LoraShape = LoraShape()
    training: TrainSettings = TrainSettings()
    lambdas: tuple[float, ...] = DEFAULT_GRID
    merge_lambda: float | None = None  # given: no validation curve, this λ
    merged_type: MergedType = "f16"
    member_name: str = "qwen-small-distilled"
    register_in: Path | None = None  # a configuration file to append the member to
    device: str | None = None
    n_threads: int | None = None


@dataclass
class DistillReport:
    examples: dict[str, int] = field(default_factory=dict)
    asked_as: dict[str, int] = field(default_factory=dict)  # training examples by prompt form (chat, fim)
    sources: dict[str, int] = field(default_factory=dict)  # training examples by source (collection, feedback, verified)
    left_out: dict[str, int] = field(default_factory=dict)
    teacher_examples_computed: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    final_loss: dict[str, float] = field(default_factory=dict)
    lambda_curve: list[LambdaPoint] = field(default_factory=list)
    merge_lambda: float = 1.0
    merged: str = ""
    sha256: str = ""
    member: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float = 0.0  # this process's peak resident set, all stages


def distill(settings: Settings, plan: DistillPlan, listener: Listener) -> DistillReport:
    report = DistillReport()
    student_member = _member(settings, plan.student)
    with _timed(report, "examples"):
        training, validation = _examples(plan, student_member, report, listener)
        report.asked_as = dict(Counter(e.prompt.kind for e in training))
        report.sources = dict(Counter(e.source for e in training))
        if not training:
            raise CodequorumError(
                f"no verified example to train on (left out: {_described(report.left_out)}): give --collection "
                "(a bench collection), --verified (the answers generate --tests-file and fix kept once "
                "their tests passed) or --feedback with a store that holds accepted completions")
        student_path = model_path(settings, student_member)
        teachers = [_teacher(settings, name) for name in plan.teachers] if plan.training.ce_weight < 1 else []
        tokenizer = load_tokenizer(student_path)
        encoded, too_long = encode_all(training, tokenizer, plan.max_length)
        held, too_long_held = encode_all(validation, tokenizer, plan.max_length)
        report.left_out["longer than --max-length"] = too_long + too_long_held
        report.examples.update({"training": len(encoded), "validation": len(held)})
    listener.note(f"{len(encoded)} training and {len(held)} validation examples "
                  f"(left out: {_described(report.left_out)})")
    if not encoded:
        raise CodequorumError(f"every example is longer than --max-length {plan.max_length} tokens: raise it")
    with _timed(report, "teachers"):
        targets = _teacher_targets(plan, teachers, encoded, tokenizer, student_path, report, listener)
    with _timed(report, "load student"):
        student = load_student(student_path, plan.lora, plan.device, tokenizer)
    with _timed(report, "training"):
        checkpoints = plan.out / "checkpoints"
        with listener.task("training (LoRA)", plan.training.steps) as advance:
            state = train(student, encoded, targets, plan.training, checkpoints,
                          lambda log: advance(f"training: step {log.step}, loss {log.loss:.3f} "
                                              f"(CE {log.cross_entropy:.3f}, KL {log.kl:.3f})"),
                          run_key=run_key(plan, encoded))
        report.steps = state.step
        if state.log:
            report.final_loss = {"loss": state.log[-1].loss, "cross_entropy": state.log[-1].cross_entropy,
                                 "kl": state.log[-1].kl}
    with _timed(report, "validation"):
        report.lambda_curve, report.merge_lambda = _choose_lambda(plan, student, held, listener)
    del student
    with _timed(report, "merge"):
        _merge(plan, student_member, student_path, report, listener)
    report.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
    (plan.out / "report.json").write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return report


def run_key(plan: DistillPlan, encoded: Sequence[EncodedExample]) -> str:
    """What the checkpoints depend on: the examples, teachers and training settings (not the
    number of steps, so a finished run can be trained further)."""
    training = {**asdict(plan.training), "steps": None, "checkpoint_every": None}
    parts = [sorted(e.digest for e in encoded), plan.teachers, plan.fusion, plan.top_k, asdict(plan.lora), training]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _examples(plan: DistillPlan, student: MemberConfig, report: DistillReport,
              listener: Listener) -> tuple[list[select.TrainingExample], list[select.TrainingExample]]:
    problems = {p.id: p for p in plan.suite}
    selection = select.Selection()
    if "fim" in plan.forms and student.fim is None:
        raise CodequorumError(f"--forms fim: {student.name} has no FIM format to ask gaps in")
    for path in plan.collections:
        select.from_collection(collection_records(path), problems, plan.half, selection, forms=plan.forms,
                               fim=student.fim, seed=plan.training.seed)
    if plan.feedback is not None:
        if student.fim is None:
            listener.note(f"feedback left out: {student.name} has no FIM format")
        else:
            select.from_feedback(accepted_feedback(plan.feedback), student.fim, selection)
    if plan.verified is not None:
        select.from_verified(verified_answers(plan.verified, plan.verified_retention_days), selection,
                             forms=plan.forms, fim=student.fim, seed=plan.training.seed)
    report.left_out.update(selection.left_out)
    write_problems(plan.out / "evaluation-problems.jsonl", [p for p in plan.suite if in_half(p.id, other_half(plan.half))])
    chosen = selection.examples
    if plan.max_examples is not None and len(chosen) > plan.max_examples:
        chosen = select.capped(chosen, plan.max_examples, plan.training.seed)
    validation = [e for e in chosen if is_validation(e.key, plan.validation_share)]
    return [e for e in chosen if not is_validation(e.key, plan.validation_share)], validation


def _teacher_targets(plan: DistillPlan, teachers: list[Teacher], encoded: list[EncodedExample], tokenizer: Any,
                     student_path: Path, report: DistillReport, listener: Listener) -> list[FusedTarget | None]:
    if not teachers:
        return [None] * len(encoded)
    caches = [TeacherCache(plan.out / "teachers", t, plan.top_k) for t in teachers]
    vocab = vocab_size(student_path)
    for cache in caches:
        missing = len(cache.missing(encoded))
        with listener.task(f"teacher {cache.teacher.name}", missing) as advance:
            report.teacher_examples_computed[cache.teacher.name] = fill_cache(
                cache, encoded, tokenizer, vocab, plan.n_threads, lambda: advance(f"teacher {cache.teacher.name}"))
    targets: list[FusedTarget | None] = []
    for example in encoded:
        views = [cache.load(example) for cache in caches]
        if any(v is None for v in views):
            raise CodequorumError(f"the teacher cache in {plan.out / 'teachers'} is damaged: delete it and rerun")
        targets.append(fuse([v for v in views if v is not None], plan.fusion, plan.top_k))
    return targets


def vocab_size(gguf_file: Path) -> int:
    """The model's vocabulary as llama.cpp counts it (`tokenizer.ggml.tokens`, padding included)."""
    import gguf

    tokens = gguf.GGUFReader(gguf_file).get_field("tokenizer.ggml.tokens")
    if tokens is None:
        raise CodequorumError(f"{gguf_file} holds no tokenizer: is it a language model's GGUF?")
    return len(tokens.data)


def _choose_lambda(plan: DistillPlan, student: Student, held: list[EncodedExample],
                   listener: Listener) -> tuple[list[LambdaPoint], float]:
    if plan.merge_lambda is not None:
        return [], plan.merge_lambda
    if not held:
        listener.note("no validation example: merging at λ = 1 (the raw fine-tune); give --merge-lambda "
                      "or a larger --validation-share to choose it")
        return [], 1.0
    with listener.task("λ on the validation split", len(plan.lambdas)) as advance:
        curve = lambda_curve(student, held, plan.lambdas, lambda: advance("λ on the validation split"))
    chosen = best_lambda(curve)
    listener.note("validation cross-entropy by λ: " + ", ".join(f"{p.merge_lambda:g}: {p.cross_entropy:.4f}"
                                                             for p in curve) + f"; chosen λ = {chosen:g}")
    return curve, chosen


def _merge(plan: DistillPlan, student: MemberConfig, base: Path, report: DistillReport, listener: Listener) -> None:
    from codequorum.distill.task_vector import read_adapter

    adapter = latest_adapter(plan.out / "checkpoints")
    assert adapter is not None  # training wrote at least its last step
    deltas = read_adapter(adapter)
    out = plan.out / f"{plan.member_name}.gguf"
    with listener.task(f"writing {out.name}", tensor_count(base)) as advance:
        summary = merge_gguf(base, out, deltas, report.merge_lambda, plan.merged_type,
                             advance=lambda: advance(f"writing {out.name}"))
    report.merged, report.sha256 = str(summary.path), write_checksum(summary.path)
    report.member = member_table(plan.member_name, summary.path, student, report.sha256)
    (plan.out / "member.toml").write_text(report.member, encoding="utf-8")
    listener.note(f"{out}: {summary.changed} tensors merged at λ = {report.merge_lambda:g} "
                  f"({plan.merged_type}), {summary.copied} copied unchanged; SHA-256 {report.sha256}")
    if plan.register_in is not None:
        register(plan.register_in, plan.member_name, report.member)
        listener.note(f"registered [members.{plan.member_name}] in {plan.register_in}")


def write_problems(path: Path, problems: Sequence[Problem]) -> None:
    """The held-apart problems as a suite `codequorum bench file` reads (bench.problems)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": p.id, "prompt": p.prompt, "tests": p.tests, "entry_point": p.entry_point,
             "language": p.language} for p in problems]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _member(settings: Settings, name: str) -> MemberConfig:
    try:
        return settings.members[name]
    except KeyError:
        known = ", ".join(sorted(settings.members))
        raise CodequorumError(f"no member {name!r} in the configuration (members: {known})") from None


def model_path(settings: Settings, member: MemberConfig) -> Path:
    """The member's GGUF: its own `path`, or the verified embedded file."""
    if member.path is not None:
        if member.path.suffix != ".gguf" or not member.path.is_file():
            raise CodequorumError(f"member {member.name}: distill needs a GGUF file, {member.path} is not one")
        return member.path
    if member.model in CATALOG:
        return ModelStore(settings.models.cache_dir).verified_path(member.model)
    raise CodequorumError(f"member {member.name} has no GGUF (path or embedded model): distill needs one")


def _teacher(settings: Settings, name: str) -> Teacher:
    member = _member(settings, name)
    path = model_path(settings, member)
    fingerprint = CATALOG[member.model].sha256 if member.path is None and member.model in CATALOG else sha256_of(path)
    return Teacher(name, path, fingerprint)


def _described(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in counts.items() if n) or "none"


@contextmanager
def _timed(report: DistillReport, stage: str) -> Iterator[None]:
    """The stage's wall-clock seconds, and the CPU seconds this process spent (all its threads:
    on a shared machine the honest measure of what the stage costs), into the report."""
    started, cpu = time.monotonic(), time.process_time()
    try:
        yield
    finally:
        report.seconds[stage] = round(time.monotonic() - started, 1)
        report.cpu_seconds[stage] = round(time.process_time() - cpu, 1)
