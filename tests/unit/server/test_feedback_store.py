import sqlite3

from codequorum.server.feedback_store import FeedbackStore, SentSuggestion, SuggestionLog
from codequorum.server.suggestions import Suggestion

SENT = SentSuggestion(Suggestion("return 1", "qwen-small", "best-of"), "inline", "python", 0,
                      "def f():\n    ", 1000.0)


def test_an_event_is_stored_with_the_member_and_strategy(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    store.record("s-1", "accepted", SENT)
    store.close()
    rows = sqlite3.connect(tmp_path / "sub" / "feedback.sqlite3").execute(
        "SELECT suggestion_id, event, kind, member, strategy, language, rank, text, suggested_at,"
        " event_at FROM feedback").fetchall()
    [(sid, event, kind, member, strategy, language, rank, text, suggested_at, event_at)] = rows
    assert (sid, event, kind, member, strategy, language, rank, text) == (
        "s-1", "accepted", "inline", "qwen-small", "best-of", "python", 0, "return 1")
    assert suggested_at == 1000.0 and event_at > suggested_at


def test_the_log_gives_unique_ids_and_forgets_the_oldest():
    log = SuggestionLog(size=2)
    ids = [log.add(SENT) for _ in range(3)]
    assert len(set(ids)) == 3
    assert log.get(ids[0]) is None and log.get(ids[2]) == SENT
    assert SuggestionLog().add(SENT) not in ids
