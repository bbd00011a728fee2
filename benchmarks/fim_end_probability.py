"""How sure the strong member is that nothing belongs at the cursor, at gaps and at complete places.

For each FIM task, the strong member answers in process (as `fim_calibrate.py` asks it) at the
gap and at the task's second place (the start of the line after the gap, whose code is
complete), then scores the empty snippet there: its probability of ending at once, with the
prompt in its KV cache. Where its snippet is empty the `confidence` ladder asks the next member;
the question is whether p(end) tells the places where that fallback can help (a real gap) from
those where nothing is missing.

    .venv/bin/python benchmarks/fim_end_probability.py [--lines 32] [--blocks 20] [--out ends.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import print_provenance  # noqa: E402
from fim_calibrate import request_for  # noqa: E402

from codequorum.bench.fim_tasks import fim_tasks, humaneval_programs  # noqa: E402
from codequorum.config import load_settings  # noqa: E402
from codequorum.core.engine import Engine  # noqa: E402
from codequorum.vocabulary.cancel import CancelToken  # noqa: E402


async def measure(engine: Engine, strong: str, lines: int, blocks: int, seed: int) -> list[dict]:
    member = engine.member(strong)
    rows = []
    for task in fim_tasks(humaneval_programs(), lines, blocks, seed):
        for place, cursor in (("gap", task.cursor), ("second place", task.second_place())):
            request = request_for(engine, task.document, cursor)
            result = await engine.run(request, "single", [strong])
            text = result.candidates[0].text if result.candidates else ""
            scores = await member.score(member.prompt_for(request), [""], CancelToken())
            if not scores or scores[0].end_logprob is None:
                raise SystemExit(f"member {strong} cannot score snippets: it needs the llama-cpp backend")
            rows.append({"task": task.id, "place": place, "text": text, "p_end": math.exp(scores[0].end_logprob)})
            print("." if text.strip() else "-", end="", flush=True)
    print()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strong", default="qwen-large")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    print_provenance()
    rows = asyncio.run(measure(Engine(load_settings(None)), args.strong, args.lines, args.blocks, args.seed))
    if args.out:
        args.out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    for place in ("gap", "second place"):
        here = [row for row in rows if row["place"] == place]
        empty = sorted(row["p_end"] for row in here if not row["text"].strip())
        answered = [row["p_end"] for row in here if row["text"].strip()]
        print(f"- at the {place}: {len(empty)} of {len(here)} snippets empty, p(end) there: "
              f"{', '.join(f'{p:.2f}' for p in empty) or '-'}"
              + (f" (median {statistics.median(empty):.2f})" if empty else ""))
        if answered:
            print(f"  where it answered, p(end) median {statistics.median(answered):.3f}, max {max(answered):.2f}")


if __name__ == "__main__":
    main()
