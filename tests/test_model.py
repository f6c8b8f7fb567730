"""GPT shapes, causality, init, config errors, and generation (KV cache, sampling, padding)."""

import math

import pytest
import torch

from minillm.compute import config_param_counts
from minillm.generate import attention_mask, continuation_logprobs, generate, sample_next
from minillm.model import GPT, GPTConfig

PRESETS = {
    "gpt2": GPTConfig.gpt2(vocab_size=80, context_length=40, n_layer=2, n_head=4, n_embd=32),
    "modern": GPTConfig.modern(vocab_size=80, context_length=40, n_layer=2, n_head=4, n_embd=32),
    "modern-gqa-untied": GPTConfig.modern(vocab_size=80, context_length=40, n_layer=2, n_head=4,
                                          n_embd=32, n_kv_head=1, tie_embeddings=False),
    "manual-attention": GPTConfig.modern(vocab_size=80, context_length=40, n_layer=2, n_head=4,
                                         n_embd=32, attention="manual"),
}


def model_for(name, seed=0):
    torch.manual_seed(seed)
    return GPT(PRESETS[name]).eval()


@pytest.mark.parametrize("name", PRESETS)
def test_shapes_loss_and_param_count(name):
    model = model_for(name)
    x, y = torch.randint(0, 80, (2, 3, 12))
    logits, loss = model(x, targets=y)
    assert logits.shape == (3, 12, 80)
    assert abs(loss.item() - math.log(80)) < 0.3              # small init: close to uniform
    counts = config_param_counts(model.config)
    assert counts["total"] == model.num_params()
    assert counts["non_embedding"] == model.num_params(embedding=False)


@pytest.mark.parametrize("name", PRESETS)
def test_future_tokens_never_change_past_logits(name):
    model = model_for(name)
    x = torch.randint(0, 80, (2, 20))
    changed = x.clone()
    changed[:, 12:] = torch.randint(0, 80, (2, 8))
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(changed)
    torch.testing.assert_close(a[:, :12], b[:, :12])
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_sdpa_equals_manual_attention():
    sdpa, manual = model_for("modern"), GPT(PRESETS["manual-attention"]).eval()
    manual.load_state_dict(sdpa.state_dict())
    x = torch.randint(0, 80, (2, 30))
    with torch.no_grad():
        torch.testing.assert_close(sdpa(x)[0], manual(x)[0], atol=1e-5, rtol=1e-5)


def test_residual_projections_get_scaled_init():
    torch.manual_seed(0)
    model = GPT(GPTConfig.modern(vocab_size=80, context_length=40, n_layer=8, n_head=4, n_embd=256))
    assert model.blocks[0].mlp.up_proj.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert model.blocks[0].attn.o_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert model.lm_head.weight is model.wte.weight


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="multiple of n_kv_head"):
        GPTConfig.modern(n_embd=32, n_head=4, n_kv_head=3)
    with pytest.raises(ValueError, match="norm='batchnorm'"):
        GPTConfig(norm="batchnorm")
    with pytest.raises(ValueError, match="unknown GPTConfig fields"):
        GPTConfig.from_dict({"n_layers": 3})
    assert GPTConfig.from_dict(PRESETS["modern"].to_dict()) == PRESETS["modern"]


def test_bad_inputs_raise():
    model = model_for("gpt2")
    with pytest.raises(ValueError, match="beyond context_length=40"):
        model(torch.zeros(1, 41, dtype=torch.long))
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        model(torch.full((1, 4), 80))
    with pytest.raises(ValueError, match="vocabulary mismatch: the tokenizer has 512"):
        model.check_vocab(512)
    model.check_vocab(80)
    model.check_vocab(50)                 # a vocabulary padded up by < 64 ids is fine


@pytest.mark.parametrize("name", ["gpt2", "modern-gqa-untied"])
def test_kv_cache_equals_recomputation(name):
    model = model_for(name, seed=1)
    prompts = [[1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11]]
    cached = generate(model, prompts, 25, temperature=0)
    assert cached == generate(model, prompts, 25, temperature=0, use_cache=False)
    # left padding changes nothing: each row alone gives the same tokens
    assert cached == [generate(model, p, 25, temperature=0) for p in prompts]
    sampled = generate(model, prompts, 10, temperature=1.0, top_k=20, seed=5)
    assert sampled == generate(model, prompts, 10, temperature=1.0, top_k=20, seed=5, use_cache=False)


def test_sampling_filters():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0, 0.0]]).repeat(2000, 1)
    g = torch.Generator().manual_seed(0)
    assert set(sample_next(logits, 1.0, top_k=2, generator=g).tolist()) == {0, 1}
    probs = logits[0].softmax(-1)                  # 0.64, 0.24, 0.09, ...: top_p=0.8 keeps two
    assert set(sample_next(logits, 1.0, top_p=0.8, generator=g).tolist()) == {0, 1}
    assert set(sample_next(logits, 1.0, top_p=0.5, generator=g).tolist()) == {0}
    assert probs[0] < 0.8 < probs[0] + probs[1]
    counts = torch.bincount(sample_next(logits, 1.0, generator=g), minlength=5) / 2000
    assert counts[0].item() == pytest.approx(probs[0].item(), abs=0.04)
    hot = torch.bincount(sample_next(logits, 100.0, generator=g), minlength=5) / 2000
    assert hot.min().item() > 0.12                  # high temperature: near uniform
    assert sample_next(logits[:1], 0.0).item() == 0
    with pytest.raises(ValueError, match="top_p must be in"):
        sample_next(logits, 1.0, top_p=1.5)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sample_next(logits, -1.0)


def test_stop_tokens_streaming_and_limits():
    model = model_for("modern", seed=2)
    free = generate(model, [3, 4, 5], 15, temperature=0)
    stop = free[6]
    streamed = []
    out = generate(model, [3, 4, 5], 15, temperature=0, stop_tokens=[stop],
                   on_token=lambda row, tok: streamed.append((row, tok)))
    assert out == free[:free.index(stop)]
    assert streamed == [(0, t) for t in out]
    with pytest.raises(ValueError, match="exceeds the model's context_length 40"):
        generate(model, [1] * 30, 20)
    with pytest.raises(ValueError, match="at least one token"):
        generate(model, [[1], []], 5)


def test_attention_mask_hides_pads_but_keeps_self():
    valid = torch.tensor([[False, False, True, True]])
    mask = attention_mask(valid, 0, 4)[0, 0]
    assert mask.tolist() == [[True, False, False, False], [False, True, False, False],
                             [False, False, True, False], [False, False, True, True]]


def test_continuation_logprobs_match_the_loss():
    model = model_for("gpt2")
    prefix, cont = [5, 6, 7], [8, 9]
    score = continuation_logprobs(model, prefix, [cont, [8]])
    with torch.no_grad():
        logits, _ = model(torch.tensor([prefix + cont]))
    logp = logits.log_softmax(-1)[0]
    expected = logp[2, 8] + logp[3, 9]
    torch.testing.assert_close(score[0], expected)
    torch.testing.assert_close(score[1], logp[2, 8])


@pytest.mark.parametrize("name", ["gpt2", "modern"])
def test_inputs_embeds_and_hidden_states_match_the_token_path(name):
    model = model_for(name)
    x = torch.randint(0, model.config.vocab_size, (2, 12))
    logits = model(x)[0]
    assert torch.allclose(model(None, inputs_embeds=model.wte(x))[0], logits, atol=1e-6)
    hidden = model.hidden_states(x)
    assert hidden.shape == (2, 12, model.config.n_embd)
    assert torch.allclose(model.lm_head(hidden), logits, atol=1e-6)
    with pytest.raises(ValueError, match="exactly one of idx"):
        model(x, inputs_embeds=model.wte(x))
