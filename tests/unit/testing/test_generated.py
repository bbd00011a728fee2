from codequorum.testing.generated import writer_request
from codequorum.vocabulary.request import Request, TaskKind


def test_a_fim_writer_writes_a_block_of_asserts_not_one_line():
    task = Request(TaskKind.GENERATE, language="python", instruction="Write is_even(n).")
    asked = writer_request(task, fim=True, count=4)
    assert asked.kind is TaskKind.COMPLETE and asked.scope == "block"
    assert asked.prefix.endswith("assert ")
