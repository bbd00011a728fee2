from codequorum.server.prompt_window import START_STEP, prompt_window

TEXT = "".join(f"value_{n:03d} = compute({n})\n" for n in range(300))


def test_a_short_document_is_shown_whole():
    window = prompt_window("a = 1\nb = ", 10, 1000, 1000)
    assert window.text == "a = 1\nb = " and window.cursor == 10


def test_the_window_starts_and_ends_at_line_boundaries():
    cursor = TEXT.index("value_150")
    window = prompt_window(TEXT, cursor, 500, 200)
    assert window.text.startswith("value_") and window.text.endswith("\n")
    assert window.text[window.cursor:].startswith("value_150")
    assert 500 <= window.cursor <= 500 + START_STEP


def test_the_start_stays_put_while_the_user_types():
    cursor = TEXT.index("value_150")
    starts = set()
    text = TEXT
    for typed in range(40):
        text = text[:cursor + typed] + "x" + text[cursor + typed:]
        window = prompt_window(text, cursor + typed + 1, 500, 200)
        starts.add(text[cursor + typed + 1 - window.cursor:][:40])
    assert len(starts) == 1


def test_the_rest_of_the_cursor_line_is_always_shown():
    text = "x = call(" + "a" * 50 + ")\nnext_line()\n"
    window = prompt_window(text, len("x = call("), 100, 0)
    assert window.text.endswith("a" * 50 + ")\n")
