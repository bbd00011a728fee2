"""Retrain the shipped listwise ranker from a benchmark collection, reporting k-fold figures.

    .venv/bin/python scripts/train_ranker.py --records data/humaneval-greedy.jsonl.gz \
        --out src/codequorum/ranking/listwise_weights.json

Deterministic: fixed seeds, folds split by problem. With --recheck, the candidates' visible
evidence is first re-run with the current checks (HumanEval problems only; see
src/codequorum/bench/recheck.py), and --save-records writes the rechecked records.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gzip
import json
import tempfile
from pathlib import Path

from codequorum.bench.problems import humaneval
from codequorum.bench.recheck import recheck
from codequorum.config import default_members, load_settings
from codequorum.ranking.train import cross_validate, examples_from_records, train_listnet
from codequorum.vocabulary.records import CandidateStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=Path, required=True, help="candidates.jsonl(.gz)")
    parser.add_argument("--out", type=Path, help="write the trained weights here")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--recheck", action="store_true", help="re-run the visible checks first")
    parser.add_argument("--save-records", type=Path, help="write the (rechecked) records here, gzipped")
    args = parser.parse_args()
    priors = {name: values["quality"] for name, values in default_members().items()}
    records = _records(args.records)
    if args.recheck:
        records = asyncio.run(recheck(load_settings(None), records, humaneval()))
    if args.save_records:
        lines = "".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in records)
        args.save_records.write_bytes(gzip.compress(lines.encode("utf-8"), mtime=0))
    examples = examples_from_records(records, priors)
    report = cross_validate(examples, priors, folds=args.folds)
    print(f"# {args.folds}-fold cross-validation by problem on {report.problems} problems")
    print(f"ranker top-1:           {report.ranker_top1:.1%}")
    print(f"random choice:          {report.random_top1:.1%}")
    print(f"always strongest member:{report.strongest_top1:.1%}")
    print(f"oracle (any passes):    {report.oracle:.1%}")
    if args.out:
        args.out.write_text(json.dumps(train_listnet(examples).to_json(), indent=1) + "\n")
        print(f"wrote {args.out}")


def _records(path: Path):  # type: ignore[no-untyped-def]
    if path.suffix != ".gz":
        return list(CandidateStore(path).records())
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "records.jsonl"
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        return list(CandidateStore(plain).records())


if __name__ == "__main__":
    main()
