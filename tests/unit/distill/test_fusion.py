import numpy as np
import pytest

from codequorum.distill.fusion import TokenDistributions, fuse
from codequorum.distill.teachers import top_k_of


def _teacher(rows: list[dict[int, float]], gold: list[float]) -> TokenDistributions:
    """Rows of {token: probability}, most likely first."""
    indices = np.array([list(r) for r in rows], dtype=np.int32)
    logprobs = np.log(np.array([list(r.values()) for r in rows], dtype=np.float32))
    return TokenDistributions(indices, logprobs, np.log(np.array(gold, dtype=np.float32)))


SURE = _teacher([{5: 0.8, 6: 0.1}, {7: 0.9, 8: 0.05}], gold=[0.8, 0.9])
UNSURE = _teacher([{6: 0.5, 5: 0.3}, {8: 0.6, 7: 0.2}], gold=[0.3, 0.2])


def test_min_ce_takes_the_teacher_that_knew_the_answer_better():
    fused = fuse([UNSURE, SURE], "min-ce", top_k=2)
    assert fused.indices.tolist() == [[5, 6], [7, 8]]
    np.testing.assert_allclose(fused.probs, [[0.8 / 0.9, 0.1 / 0.9], [0.9 / 0.95, 0.05 / 0.95]], rtol=1e-6)


def test_avg_ce_weights_each_teacher_by_softmax_of_minus_its_cross_entropy():
    fused = fuse([SURE, UNSURE], "avg-ce", top_k=2)
    w = np.exp([-SURE.cross_entropy, -UNSURE.cross_entropy])
    w /= w.sum()
    first = {5: w[0] * 0.8 + w[1] * 0.3, 6: w[0] * 0.1 + w[1] * 0.5}
    assert fused.indices[0].tolist() == sorted(first, key=lambda t: -first[t])
    np.testing.assert_allclose(sorted(fused.probs[0], reverse=True),
                               sorted(np.array(list(first.values())) / sum(first.values()), reverse=True), rtol=1e-5)
    np.testing.assert_allclose(fused.probs.sum(axis=1), 1.0, rtol=1e-6)


def test_avg_ce_keeps_the_top_k_of_the_union():
    a = _teacher([{1: 0.6, 2: 0.4}], gold=[0.6])
    b = _teacher([{3: 0.7, 1: 0.3}], gold=[0.6])  # same CE: equal weights
    fused = fuse([a, b], "avg-ce", top_k=2)
    assert fused.indices.tolist() == [[1, 3]]  # 0.45, 0.35; token 2 (0.2) falls out
    np.testing.assert_allclose(fused.probs, [[0.45 / 0.8, 0.35 / 0.8]], rtol=1e-6)


def test_teachers_must_agree_on_the_answers_length():
    with pytest.raises(ValueError, match="length"):
        fuse([SURE, _teacher([{1: 1.0}], [1.0])], "min-ce", top_k=2)


def test_top_k_of_logits_is_a_log_softmax_over_the_whole_vocabulary():
    logits = np.array([[2.0, 0.0, 1.0, -1.0], [0.0, 3.0, 0.0, 0.0]], dtype=np.float32)
    view = top_k_of(logits, answer=[2, 0], top_k=2)
    full = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert view.indices[1, 0] == 1  # the rest of row 1 is a tie
    assert view.indices[0].tolist() == [0, 2]
    np.testing.assert_allclose(view.logprobs[0], full[0, [0, 2]], rtol=1e-5)
    np.testing.assert_allclose(view.gold_logprobs, [full[0, 2], full[1, 0]], rtol=1e-5)
    assert view.cross_entropy == pytest.approx(-(full[0, 2] + full[1, 0]) / 2, rel=1e-5)
