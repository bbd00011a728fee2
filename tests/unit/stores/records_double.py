"""Feedback records to store in the tests."""

from __future__ import annotations

import itertools

from codequorum.stores.records import Event, FeedbackRecord

_ids = itertools.count(1)


def record(event: Event = "accepted", member: str = "qwen-small", at: float = 1000.0,
           **fields: object) -> FeedbackRecord:
    number = next(_ids)
    values: dict[str, object] = {
        "event_id": f"event-{number}", "suggestion_id": f"s-{number}", "event": event, "kind": "inline",
        "member": member, "strategy": "best-of", "language": "python", "rank": 0,
        "text": "return a + b  # ünïcode", "prefix_tail": "def add(a, b):\n    ",
        "prompt_prefix": "import os\n\ndef add(a, b):\n    ", "prompt_suffix": "\n\nprint(add(1, 2))\n",
        "suggested_at": at - 1.5, "event_at": at,
    }
    values.update(fields)
    return FeedbackRecord(**values)  # type: ignore[arg-type]
