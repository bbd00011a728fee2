from codequorum.core.postprocess.code_block import extract_code_block


def test_prose_around_a_fenced_block_is_dropped():
    text = "Sure! Here it is:\n```python\ndef f():\n    return 1\n```\nHope this helps."
    assert extract_code_block(text, "python") == "def f():\n    return 1"


def test_the_block_tagged_with_the_language_wins():
    text = "```bash\npip install x\n```\n```py\nprint(1)\n```"
    assert extract_code_block(text, "python") == "print(1)"


def test_an_unclosed_fence_keeps_its_code():
    assert extract_code_block("```python\nx = 1\ny = 2", "python") == "x = 1\ny = 2"


def test_bare_code_is_returned_unchanged():
    assert extract_code_block("return a + b", "python") == "return a + b"


def test_end_of_first_block():
    from codequorum.core.postprocess.code_block import end_of_first_block

    assert end_of_first_block("```py\nx\n") is None
    assert end_of_first_block("a\n```py\nx\n```\nmore") == len("a\n```py\nx\n```")
