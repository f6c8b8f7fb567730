"""Parity with transformers' GPT-2 and Llama on tiny random configs (offline), and pretrained-
weight loading: the conversion path on a locally saved model, the clear offline error."""

import pytest
import torch

from minillm.generate import generate
from minillm.model import GPT, GPTConfig, convert_llama_state_dict

transformers = pytest.importorskip("transformers")


def tiny_hf_gpt2(seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=101, n_positions=48, n_embd=32, n_layer=2, n_head=4,
                                     activation_function="gelu_new", resid_pdrop=0.0,
                                     embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():                      # random LayerNorm/bias values, so they are tested too
        for _, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def test_gpt2_preset_matches_transformers_gpt2(tmp_path):
    hf = tiny_hf_gpt2()
    hf.save_pretrained(tmp_path, safe_serialization=True)
    ours = GPT.from_pretrained(str(tmp_path)).eval()       # the same conversion as the hub path
    assert ours.config.position == "learned" and ours.config.tie_embeddings
    idx = torch.randint(0, 101, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf(idx).logits
        got, _ = ours(idx)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("n_kv_head,tied", [(4, False), (2, True)])
def test_modern_preset_matches_transformers_llama(n_kv_head, tied):
    torch.manual_seed(0)
    hf_config = transformers.LlamaConfig(
        vocab_size=101, hidden_size=32, intermediate_size=72, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=n_kv_head, max_position_embeddings=64,
        rms_norm_eps=1e-6, tie_word_embeddings=tied)
    hf = transformers.LlamaForCausalLM(hf_config).eval()
    with torch.no_grad():
        for _, p in hf.named_parameters():
            if p.dim() == 1:                   # RMSNorm weights start at 1: perturb them
                p.add_(torch.randn_like(p) * 0.1)
    config = GPTConfig.modern(vocab_size=101, context_length=64, n_layer=2, n_head=4, n_embd=32,
                              n_kv_head=n_kv_head, mlp_hidden=72, tie_embeddings=tied,
                              norm_eps=1e-6, rope_theta=10000.0)
    ours = GPT(config).eval()
    ours.load_state_dict(convert_llama_state_dict(hf.state_dict(), 2, tied), strict=True)
    idx = torch.randint(0, 101, (2, 50), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = hf(idx).logits
        got, _ = ours(idx)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_kv_cache_greedy_equals_transformers_greedy(tmp_path):
    hf = tiny_hf_gpt2(seed=3)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    ours = GPT.from_pretrained(str(tmp_path)).eval()
    prompt = [5, 17, 42, 8]
    expected = hf.generate(torch.tensor([prompt]), max_new_tokens=20, do_sample=False,
                           pad_token_id=0, attention_mask=torch.ones(1, 4, dtype=torch.long))
    assert generate(ours, prompt, 20, temperature=0) == expected[0, 4:].tolist()


def test_from_pretrained_offline_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="cannot download 'gpt2'.*HF_HUB_OFFLINE"):
        GPT.from_pretrained("gpt2", cache_dir=tmp_path)


def test_from_pretrained_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown model 'gpt5'"):
        GPT.from_pretrained("gpt5")
