"""What distillation may train on: accepted completions, never dismissed, with their window."""

from codequorum.stores.records import accepted_completions
from tests.unit.stores.records_double import record


def test_only_accepted_completions_with_their_prompt_window_are_training_examples():
    kept = record("accepted")
    later_dismissed = record("accepted")
    records = [
        kept,
        later_dismissed, record("dismissed", suggestion_id=later_dismissed.suggestion_id),
        record("shown"),
        record("accepted", kind="generate"),
        record("accepted", text="", prompt_prefix="", prompt_suffix=""),  # feedback_keep_text = false
        record("accepted", prompt_prefix=" ", prompt_suffix=""),  # no window: stored before windows were
    ]
    assert accepted_completions(records) == [kept]
