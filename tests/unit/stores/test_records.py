"""What distillation may train on: accepted completions, never dismissed, with their window;
how much of a suggestion an accept took."""

from codequorum.stores.records import accepted_completions, utf16_length
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


def test_a_partial_accept_is_an_example_only_when_it_took_the_whole_suggestion():
    text = "return a + b  # ünïcode"
    in_part = record("accepted_partial", text=text, accepted_chars=6)
    to_the_end = record("accepted_partial", text=text, accepted_chars=utf16_length(text))
    again = record("accepted", suggestion_id=to_the_end.suggestion_id)  # the same suggestion: one example
    assert accepted_completions([in_part, to_the_end, again]) == [to_the_end]
    taken_then_dismissed = record("accepted_partial", text=text, accepted_chars=len(text))
    assert accepted_completions([taken_then_dismissed,
                                 record("dismissed", suggestion_id=taken_then_dismissed.suggestion_id)]) == []


def test_the_share_taken_counts_utf16_units_as_editors_do():
    assert utf16_length("a😀b") == 4
    assert record("accepted_partial", text="a😀b", accepted_chars=3).share_taken() == 0.75
    assert record("accepted_partial", text="ab", accepted_chars=5).share_taken() == 1.0
    assert record("accepted_partial", text="", accepted_chars=5).share_taken() is None  # text not kept
    assert record("accepted").share_taken() == 1.0
    assert record("dismissed").share_taken() is None and record("shown").share_taken() is None
