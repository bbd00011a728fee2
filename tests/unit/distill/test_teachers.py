from pathlib import Path

import numpy as np
import pytest

from codequorum.distill.encode import EncodedExample
from codequorum.distill.fusion import TokenDistributions
from codequorum.distill.teachers import PROBE, Teacher, TeacherCache, _check_same_tokenizer
from codequorum.vocabulary.errors import CodequorumError

TEACHER = Teacher("qwen-large", Path("/models/large.gguf"), "cc324af070c2ecbfd324a30884d2f951")
EXAMPLE = EncodedExample("HumanEval/0", (1, 2, 3, 4, 5), 3)
VIEW = TokenDistributions(np.array([[4, 9], [5, 1]], np.int32), np.log(np.array([[0.7, 0.2], [0.9, 0.05]], np.float32)),
                          np.log(np.array([0.7, 0.9], np.float32)))


def test_the_cache_keeps_each_examples_view_by_teacher_file_and_top_k(tmp_path):
    cache = TeacherCache(tmp_path, TEACHER, top_k=2)
    assert cache.missing([EXAMPLE]) == [EXAMPLE] and cache.load(EXAMPLE) is None
    cache.save(EXAMPLE, VIEW)
    loaded = cache.load(EXAMPLE)
    assert loaded is not None and cache.missing([EXAMPLE]) == []
    np.testing.assert_array_equal(loaded.indices, VIEW.indices)
    np.testing.assert_allclose(loaded.logprobs, VIEW.logprobs)
    assert cache.directory.name == "qwen-large-cc324af070c2ecbf-top2"
    assert TeacherCache(tmp_path, TEACHER, top_k=8).missing([EXAMPLE]) == [EXAMPLE]  # another k: computed again
    other = EncodedExample("HumanEval/0", (1, 2, 3, 4, 6), 3)  # other tokens: another file
    assert cache.missing([other]) == [other]


def test_a_damaged_cache_file_is_computed_again(tmp_path):
    cache = TeacherCache(tmp_path, TEACHER, top_k=2)
    cache.save(EXAMPLE, VIEW)
    cache.path_for(EXAMPLE).write_bytes(b"cut short")
    assert cache.load(EXAMPLE) is None


class _Llama:
    def __init__(self, vocab: int, ids: list[int]) -> None:
        self.vocab, self.ids = vocab, ids

    def n_vocab(self) -> int:
        return self.vocab

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        assert text == PROBE.encode() and not add_bos and special
        return self.ids


def _tokenizer(text: str, add_special_tokens: bool) -> dict[str, list[int]]:
    return {"input_ids": [7, 8, 9]}


def test_a_teacher_with_another_tokenizer_is_refused():
    _check_same_tokenizer(TEACHER, _Llama(100, [7, 8, 9]), _tokenizer, 100)
    with pytest.raises(CodequorumError, match="does not share the student's tokenizer"):
        _check_same_tokenizer(TEACHER, _Llama(100, [7, 8, 10]), _tokenizer, 100)
    with pytest.raises(CodequorumError, match="100 tokens against 120"):
        _check_same_tokenizer(TEACHER, _Llama(100, [7, 8, 9]), _tokenizer, 120)
