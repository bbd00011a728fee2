import pytest
import torch

from codequorum.distill.loss import fusion_loss

LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.0, 1.0, 3.0, -2.0]])
GOLD = torch.tensor([0, 2])


def test_ce_weight_one_is_plain_cross_entropy():
    parts = fusion_loss(LOGITS, GOLD, None, None, ce_weight=1.0)
    assert float(parts.total) == pytest.approx(float(torch.nn.functional.cross_entropy(LOGITS, GOLD)))
    assert parts.kl == 0.0


def test_kl_is_zero_when_the_student_matches_the_target_over_the_whole_vocabulary():
    probs = torch.softmax(LOGITS, dim=-1)
    indices = torch.arange(4).repeat(2, 1)
    parts = fusion_loss(LOGITS, GOLD, indices, probs, ce_weight=0.0)
    assert parts.kl == pytest.approx(0.0, abs=1e-6)


def test_the_mix_is_lambda_ce_plus_one_minus_lambda_kl():
    indices = torch.tensor([[1, 0], [3, 2]])
    probs = torch.tensor([[0.7, 0.3], [0.5, 0.5]])
    parts = fusion_loss(LOGITS, GOLD, indices, probs, ce_weight=0.25)
    logp = torch.log_softmax(LOGITS, dim=-1)
    kl = sum(sum(q * (torch.log(torch.tensor(q)) - logp[r, int(i)]) for q, i in zip(p.tolist(), ix.tolist()))
             for r, (p, ix) in enumerate(zip(probs, indices))) / 2
    ce = float(torch.nn.functional.cross_entropy(LOGITS, GOLD))
    assert parts.kl == pytest.approx(float(kl), rel=1e-5)
    assert float(parts.total) == pytest.approx(0.25 * ce + 0.75 * float(kl), rel=1e-5)


def test_the_gradient_moves_the_student_towards_the_teachers_token():
    logits = LOGITS.clone().requires_grad_(True)
    fusion_loss(logits, GOLD, torch.tensor([[1], [3]]), torch.tensor([[1.0], [1.0]]), ce_weight=0.0).total.backward()
    assert logits.grad[0, 1] < 0 and logits.grad[1, 3] < 0  # raising them lowers the loss
