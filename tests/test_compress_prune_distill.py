"""Pruning (magnitude, Wanda, 2:4) and knowledge distillation."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from compress_helpers import tiny_gpt, token_batches

from minillm.compress import (
    distillation_loss,
    distillation_loss_fn,
    load_compressed,
    magnitude_scores,
    prune_mask,
    prune_model,
    save_compressed,
    sparsity_report,
    wanda_scores,
)
from minillm.train import TrainConfig, Trainer


@pytest.mark.parametrize("sparsity,in_features,expected_zeros", [(0.5, 64, 32), (0.3, 50, 15),
                                                                 (0.9, 40, 36), (0.0, 8, 0)])
def test_unstructured_mask_prunes_exactly_per_row_and_the_smallest_scores(sparsity, in_features,
                                                                          expected_zeros):
    torch.manual_seed(0)
    scores = torch.rand(12, in_features)
    mask = prune_mask(scores, sparsity)
    assert ((~mask).sum(dim=1) == expected_zeros).all()
    if 0 < expected_zeros:
        kept_min = torch.where(mask, scores, torch.inf).amin(dim=1)
        pruned_max = torch.where(mask, -torch.inf, scores).amax(dim=1)
        assert (kept_min > pruned_max).all()


def test_two_four_mask_keeps_the_two_best_of_every_four():
    torch.manual_seed(0)
    scores = torch.rand(16, 64)
    mask = prune_mask(scores, pattern="2:4")
    groups, kept = scores.reshape(16, 16, 4), mask.reshape(16, 16, 4)
    assert (kept.sum(-1) == 2).all()
    top2 = groups.topk(2, dim=-1).indices
    assert torch.equal(torch.zeros_like(kept).scatter(-1, top2, True), kept)
    assert ((~prune_mask(scores, pattern="1:4")).reshape(16, 16, 4).sum(-1) == 3).all()


def test_masks_are_deterministic_under_ties():
    scores = torch.ones(3, 8)
    mask = prune_mask(scores, 0.5)
    assert torch.equal(mask, prune_mask(scores.clone(), 0.5))
    assert ((~mask).sum(1) == 4).all()


def test_wanda_scores_weight_each_input_by_its_norm():
    w = torch.tensor([[1.0, -2.0, 3.0], [-0.5, 0.5, 1.0]])
    norms = torch.tensor([10.0, 1.0, 0.1])
    expected = torch.tensor([[10.0, 2.0, 0.3], [5.0, 0.5, 0.1]])
    torch.testing.assert_close(wanda_scores(w, norms), expected)
    torch.testing.assert_close(magnitude_scores(w), w.abs())
    # with equal input norms Wanda and magnitude choose the same weights
    torch.manual_seed(0)
    big = torch.randn(8, 32)
    assert torch.equal(prune_mask(wanda_scores(big, torch.full((32,), 3.0)), 0.5),
                       prune_mask(magnitude_scores(big), 0.5))
    with pytest.raises(ValueError, match="one entry per input feature"):
        wanda_scores(w, torch.ones(4))


def test_wanda_keeps_layer_outputs_closer_than_magnitude_when_inputs_differ_in_scale():
    torch.manual_seed(0)
    layer = nn.Sequential(nn.Linear(64, 32))
    x = torch.randn(512, 64) * torch.logspace(-1, 1, 64)        # features from 0.1 to 10 in size
    exact = layer(x).detach()
    errors = {}
    for method in ("magnitude", "wanda"):
        pruned = prune_model(layer, method, 0.5, batches=[x], skip=())
        errors[method] = float((pruned(x) - exact).detach().norm())
        assert ((pruned[0].weight == 0).sum(1) == 32).all()
    assert errors["wanda"] < 0.7 * errors["magnitude"]


@pytest.mark.parametrize("method,pattern", [("magnitude", "unstructured"), ("wanda", "unstructured"),
                                            ("magnitude", "2:4"), ("wanda", "2:4")])
def test_prune_model_hits_the_sparsity_in_every_row_of_every_layer(method, pattern):
    model, batches = tiny_gpt(), token_batches(2)
    pruned = prune_model(model, method, sparsity=0.5, pattern=pattern, batches=batches)
    report = sparsity_report(pruned).set_index("layer")
    blocks = report.drop(index="lm_head")
    assert len(blocks) == 14 and (blocks.sparsity == 0.5).all()
    assert (blocks.is_2_4 == (pattern == "2:4")).all()
    assert report.loc["lm_head", "sparsity"] == 0.0                # tied embedding left alone
    for name, layer in pruned.named_modules():
        if isinstance(layer, nn.Linear) and name != "lm_head":
            assert ((layer.weight == 0).sum(1) == layer.in_features // 2).all(), name
    assert torch.equal(pruned.wte.weight, model.wte.weight)
    assert sparsity_report(model).sparsity.max() == 0.0             # the original is untouched
    assert list(report.columns) == ["shape", "params", "zeros", "sparsity", "is_2_4"]


def test_wanda_uses_the_data_and_is_deterministic():
    model = tiny_gpt()
    a = prune_model(model, "wanda", 0.5, batches=token_batches(2, seed=1))
    b = prune_model(model, "wanda", 0.5, batches=token_batches(2, seed=1))
    mag = prune_model(model, "magnitude", 0.5)
    masks = lambda m: [p != 0 for n, p in m.named_parameters() if "proj" in n]
    assert all(torch.equal(x, y) for x, y in zip(masks(a), masks(b), strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(masks(a), masks(mag), strict=True))


def test_pruned_model_save_load_round_trip(tmp_path):
    pruned = prune_model(tiny_gpt(), "magnitude", pattern="2:4")
    loaded = load_compressed(save_compressed(pruned, tmp_path / "pruned.safetensors")).eval()
    x = token_batches(1)[0][0]
    assert torch.equal(loaded(x)[0], pruned(x)[0])


def test_bad_pruning_arguments_raise_clear_errors():
    model = tiny_gpt()
    with pytest.raises(ValueError, match="needs calibration batches"):
        prune_model(model, "wanda", 0.5)
    with pytest.raises(ValueError, match="method="):
        prune_model(model, "random")
    with pytest.raises(ValueError, match="'2:4'"):
        prune_model(model, pattern="4:2")
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\)"):
        prune_model(model, sparsity=1.0)
    with pytest.raises(ValueError, match="divisible by 4"):
        prune_mask(torch.rand(4, 10), pattern="2:4")


def softmax(values, temperature=1.0):
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def test_distillation_loss_matches_a_hand_computed_value():
    student = torch.tensor([[[1.0, 2.0, 0.0], [0.5, 0.0, -1.0], [0.0, 1.0, 3.0]]])
    teacher = torch.tensor([[[2.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]])
    targets = torch.tensor([[1, -100, 2]])                     # the middle position is masked
    T, alpha = 2.0, 0.3
    kl = ce = 0.0
    for pos in (0, 2):
        p_t, p_s = softmax(teacher[0, pos].tolist(), T), softmax(student[0, pos].tolist(), T)
        kl += sum(pt * (math.log(pt) - math.log(ps)) for pt, ps in zip(p_t, p_s, strict=True)) / 2
        ce += -math.log(softmax(student[0, pos].tolist())[int(targets[0, pos])]) / 2
    expected = alpha * T ** 2 * kl + (1 - alpha) * ce
    got = distillation_loss(student, teacher, targets, temperature=T, alpha=alpha)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_distillation_loss_special_cases():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 5, 11), torch.randn(2, 5, 11)
    targets = torch.randint(0, 11, (2, 5))
    targets[0, 0] = -100
    plain_ce = F.cross_entropy(student.reshape(-1, 11), targets.reshape(-1), ignore_index=-100)
    torch.testing.assert_close(distillation_loss(student, teacher, targets, 1.0, 0.0), plain_ce)
    assert distillation_loss(student, student, targets, 3.0, 1.0).item() == pytest.approx(0, abs=1e-6)
    assert distillation_loss(student, teacher, None, 2.0, 1.0) > 0
    s = student.clone().requires_grad_(True)
    t = teacher.clone().requires_grad_(True)
    distillation_loss(s, t, targets, 2.0, 0.5).backward()
    assert s.grad is not None and t.grad is None                    # only the student learns
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(student, teacher, targets, temperature=0.0)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(student, teacher, targets, alpha=1.5)
    with pytest.raises(ValueError, match="pass alpha=1"):
        distillation_loss(student, teacher, None, alpha=0.5)
    with pytest.raises(ValueError, match="share the vocabulary"):
        distillation_loss(student, teacher[..., :7], targets)


def test_distillation_with_the_trainer_pulls_the_student_toward_a_frozen_teacher():
    teacher = tiny_gpt(seed=1)
    student = tiny_gpt(seed=2, n_layer=1, n_embd=16)
    teacher_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    batches = token_batches(4, seed=3)
    loss_fn = distillation_loss_fn(teacher, temperature=1.0, alpha=1.0)

    def kl_to_teacher():
        with torch.no_grad():
            return sum(float(loss_fn(student, b)) for b in batches) / len(batches)

    before = kl_to_teacher()
    stream = iter(batches * 10)
    config = TrainConfig(max_steps=40, lr=1e-2, min_lr=1e-3, warmup_steps=0, eval_every=0)
    history = Trainer(student, config, stream, loss_fn=loss_fn, device="cpu", progress=False).fit()
    assert len(history) >= 40
    assert kl_to_teacher() < 0.8 * before
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert all(torch.equal(v, teacher_before[k]) for k, v in teacher.state_dict().items())
