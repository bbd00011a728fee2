from collections import namedtuple

import pytest
from pydantic import ValidationError

from codequorum.server.extensions import FeedbackParams, GenerateArgs, plain


def test_generate_takes_a_range_or_a_line_but_not_both():
    assert GenerateArgs.model_validate({"uri": "file:///a.py", "line": 3}).line == 3
    selection = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 4}}
    assert GenerateArgs.model_validate({"uri": "file:///a.py", "range": selection}).range.end.character == 4
    with pytest.raises(ValidationError, match="exactly one of"):
        GenerateArgs.model_validate({"uri": "file:///a.py"})
    with pytest.raises(ValidationError, match="exactly one of"):
        GenerateArgs.model_validate({"uri": "file:///a.py", "line": 1, "range": selection})


def test_feedback_events_are_one_of_four():
    assert FeedbackParams.model_validate({"id": "x-1", "event": "dismissed"}).event == "dismissed"
    with pytest.raises(ValidationError):
        FeedbackParams.model_validate({"id": "x-1", "event": "liked"})


def test_a_partial_accept_says_how_much_was_accepted_and_only_it_does():
    partial = FeedbackParams.model_validate({"id": "x-1", "event": "accepted_partial", "accepted_chars": 7})
    assert partial.accepted_chars == 7
    for wrong in ({"id": "x-1", "event": "accepted_partial"},
                  {"id": "x-1", "event": "accepted_partial", "accepted_chars": 0},
                  {"id": "x-1", "event": "accepted", "accepted_chars": 3}):
        with pytest.raises(ValidationError):
            FeedbackParams.model_validate(wrong)


def test_plain_turns_pygls_objects_into_json_data():
    Object = namedtuple("Object", ["id", "nested"])
    assert plain(Object("a", [Object("b", None)])) == {"id": "a", "nested": [{"id": "b", "nested": None}]}
