"""PEFT: soft prompts, prefixes and LoRA on a frozen model; KV-cache generation, mixed-task
batches, training through the shared Trainer, save/load checked against the base model."""

import json

import pytest
import torch

from minillm.generate import generate
from minillm.model import GPT, GPTConfig
from minillm.peft import (
    AdapterBank,
    LoRA,
    LoRAConfig,
    LoRALinear,
    PrefixConfig,
    PrefixModel,
    PrefixTuning,
    SoftPrompt,
    SoftPromptConfig,
    SoftPromptModel,
    adapter_file_size,
    adapter_logits,
    adapter_names,
    generate_with_adapters,
    generate_with_prefix,
    generate_with_soft_prompt,
    load_adapter,
    mark_only_adapters_trainable,
    nearest_tokens,
    parameter_summary,
    read_adapter_meta,
    save_adapter,
    set_active_adapters,
    trainable_parameters,
)
from minillm.train import TrainConfig, Trainer

VOCAB = 97
PRESETS = {"modern": dict(), "gqa": dict(n_kv_head=1), "gpt2": dict()}


def tiny(preset="modern", seed=0, **kw):
    torch.manual_seed(seed)
    make = GPTConfig.gpt2 if preset == "gpt2" else GPTConfig.modern
    shape = dict(vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=32, context_length=64)
    return GPT(make(**{**shape, **PRESETS[preset], **kw})).eval()


def batch(B=3, T=10, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (B, T), generator=g)


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_bitwise_equal(before, model):
    after = model.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), f"{k} changed"


def task_batches(seed=0, B=8, T=12):
    """A tiny task: after the first half of a random sequence, always predict token 7."""
    g = torch.Generator().manual_seed(seed)
    while True:
        x = torch.randint(0, VOCAB, (B, T), generator=g)
        y = torch.full((B, T), 7)
        y[:, : T // 2] = -100
        yield x, y


def train(wrapper, steps=3, lr=1e-2):
    """Train with the shared Trainer; the loss on a held-out batch before and after."""
    held_out = next(task_batches(seed=99))
    with torch.no_grad():
        before = float(wrapper.eval()(*held_out)[1])
    cfg = TrainConfig(max_steps=steps, lr=lr, min_lr=lr, warmup_steps=0, weight_decay=0.0, eval_every=0)
    Trainer(wrapper, cfg, task_batches(), device="cpu", progress=False).fit()
    with torch.no_grad():
        after = float(wrapper.eval()(*held_out)[1])
    return before, after


# --- soft prompts ----------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_zero_length_soft_prompt_equals_base(preset):
    model = tiny(preset)
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=0))
    x = batch()
    tuned_logits, _ = SoftPromptModel(model, soft)(x)
    assert torch.equal(tuned_logits, model(x)[0])


@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_text_initialised_soft_prompt_is_that_text(preset):
    # a soft prompt copied from the embeddings of ids t must behave exactly like the text t
    model, text = tiny(preset), [11, 22, 33, 44]
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=4, init="text", init_ids=text))
    x = batch()
    y = torch.randint(0, VOCAB, x.shape)
    logits, loss = SoftPromptModel(model, soft)(x, targets=y)
    full = torch.cat([torch.tensor(text).expand(len(x), -1), x], dim=1)
    ref_logits, _ = model(full)
    torch.testing.assert_close(logits, ref_logits[:, 4:], atol=1e-5, rtol=1e-5)
    ref_loss = torch.nn.functional.cross_entropy(ref_logits[:, 4:].reshape(-1, VOCAB), y.reshape(-1))
    torch.testing.assert_close(loss, ref_loss, atol=1e-5, rtol=1e-5)
    assert nearest_tokens(soft, model, k=1)[:, 0].tolist() == text


def test_soft_prompt_inits_and_determinism():
    model = tiny()
    table = model.wte.weight.detach()
    cycled = SoftPrompt(model, SoftPromptConfig(n_tokens=5, init="text", init_ids=[3, 9]))
    assert torch.equal(cycled.embeddings, table[[3, 9, 3, 9, 3]])
    vocab = SoftPrompt(model, SoftPromptConfig(n_tokens=6, init="vocab", seed=4))
    rows = nearest_tokens(vocab, model, k=1)[:, 0]
    assert torch.equal(vocab.embeddings, table[rows])             # every vector is a real embedding
    random_a = SoftPrompt(model, SoftPromptConfig(n_tokens=48, init="random", seed=1))
    random_b = SoftPrompt(model, SoftPromptConfig(n_tokens=48, init="random", seed=1))
    assert torch.equal(random_a.embeddings, random_b.embeddings)
    assert float(random_a.embeddings.detach().std()) == pytest.approx(float(table.std()), rel=0.15)
    assert nearest_tokens(random_a, model, k=3).shape == (48, 3)
    assert vocab.num_parameters() == 6 * 32


def test_soft_prompt_bad_inputs():
    model = tiny()
    with pytest.raises(ValueError, match="init_ids"):
        SoftPromptConfig(n_tokens=4, init="text")
    with pytest.raises(ValueError, match="raise n_tokens"):
        SoftPromptConfig(n_tokens=1, init="text", init_ids=[1, 2])
    with pytest.raises(ValueError, match="vocabulary"):
        SoftPrompt(model, SoftPromptConfig(n_tokens=2, init="text", init_ids=[VOCAB]))
    with pytest.raises(ValueError, match="not one of"):
        SoftPromptConfig(init="zeros")
    with pytest.raises(ValueError, match="k must be"):
        nearest_tokens(SoftPrompt(model, SoftPromptConfig(n_tokens=2)), model, k=0)
    with pytest.raises(ValueError, match="plain"):
        SoftPromptModel(model, SoftPrompt(model))(batch(), positions=torch.zeros(3, 10, dtype=torch.long))


def test_prompt_tuning_trains_only_the_prompt_and_lowers_the_loss():
    model = tiny()
    before = snapshot(model)
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=4, seed=0))
    tuned = SoftPromptModel(model, soft)
    assert trainable_parameters(tuned) == 4 * 32
    x, y = next(task_batches(seed=5))
    _, loss = tuned(x, targets=y)
    loss.backward()
    assert soft.embeddings.grad is not None and soft.embeddings.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())
    soft.embeddings.grad = None
    before_loss, after_loss = train(tuned, steps=40, lr=0.3)
    # small but real: on a random base model attention to the prompt is weak (prefixes do better)
    assert after_loss < before_loss - 0.05
    assert_bitwise_equal(before, model)


# --- prefix tuning ---------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["modern", "gqa", "gpt2"])
def test_text_initialised_prefix_is_that_texts_kv_cache(preset):
    model, text = tiny(preset), [5, 6, 7]
    x = batch()
    ref = model(torch.cat([torch.tensor(text).expand(len(x), -1), x], dim=1))[0][:, 3:]
    for reparameterize in (False, True):
        prefix = PrefixTuning(model, PrefixConfig(n_prefix=3, init="text", init_ids=text,
                                                  reparameterize=reparameterize, mlp_hidden=16))
        assert prefix.key_values()[0].shape == (2, model.config.kv_heads, 3, 16)
        torch.testing.assert_close(PrefixModel(model, prefix)(x)[0], ref, atol=1e-5, rtol=1e-5)


def test_prefix_training_reaches_only_the_prefix_and_fold_keeps_outputs():
    model = tiny()
    before = snapshot(model)
    prefix = PrefixTuning(model, PrefixConfig(n_prefix=4, mlp_hidden=16, seed=2))
    assert prefix.reparameterized
    tuned = PrefixModel(model, prefix)
    x, y = next(task_batches(seed=5))
    _, loss = tuned(x, targets=y)
    loss.backward()
    assert prefix.mlp[2].weight.grad.abs().sum() > 0           # the zero-initialised last layer
    assert all(p.grad is None for p in model.parameters())
    tuned.zero_grad(set_to_none=True)
    before_loss, after_loss = train(tuned, steps=20, lr=2e-2)
    assert after_loss < before_loss - 0.3
    assert_bitwise_equal(before, model)
    with torch.no_grad():
        unfolded = tuned(x)[0]
        params_before = prefix.num_parameters()
        prefix.fold()
        folded = tuned(x)[0]
    assert not prefix.reparameterized
    assert prefix.num_parameters() == 2 * 2 * 2 * 4 * 16 != params_before
    torch.testing.assert_close(folded, unfolded, atol=1e-6, rtol=1e-6)


# --- generation with the KV cache --------------------------------------------------------------
PROMPTS = [[1, 2, 3, 4, 5], [9], [30, 31, 32]]


@pytest.mark.parametrize("preset", ["modern", "gqa", "gpt2"])
def test_soft_prompt_and_prefix_generation_cache_matches_recompute(preset):
    model = tiny(preset)
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=3, init="random", seed=3))
    prefix = PrefixTuning(model, PrefixConfig(n_prefix=4, reparameterize=False))
    for adapter in ({"soft_prompts": soft}, {"prefixes": prefix}, {"soft_prompts": soft, "prefixes": prefix}):
        cached = generate_with_adapters(model, PROMPTS, 12, temperature=0, **adapter)
        recomputed = generate_with_adapters(model, PROMPTS, 12, temperature=0, use_cache=False, **adapter)
        assert cached == recomputed
        assert all(len(row) == 12 for row in cached)
    sampled = [generate_with_soft_prompt(model, soft, PROMPTS, 8, temperature=1.0, seed=s) for s in (0, 0, 1)]
    assert sampled[0] == sampled[1] != sampled[2]


@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_text_initialised_adapters_generate_like_the_text(preset):
    model, text = tiny(preset), [40, 41, 42]
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=3, init="text", init_ids=text))
    prefix = PrefixTuning(model, PrefixConfig(n_prefix=3, init="text", init_ids=text))
    reference = generate(model, [text + p for p in PROMPTS], 10, temperature=0)
    assert generate_with_soft_prompt(model, soft, PROMPTS, 10, temperature=0) == reference
    assert generate_with_prefix(model, prefix, PROMPTS, 10, temperature=0) == reference
    # no adapter at all: the plain generator's output
    assert generate_with_adapters(model, PROMPTS, 10, temperature=0) == generate(model, PROMPTS, 10, temperature=0)


def test_generation_bad_inputs():
    model = tiny()
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=8))
    with pytest.raises(ValueError, match="context_length"):
        generate_with_soft_prompt(model, soft, [list(range(50))], 10)
    with pytest.raises(ValueError, match="one per prompt"):
        generate_with_adapters(model, PROMPTS, 4, soft_prompts=[soft])
    with pytest.raises(ValueError, match="vocabulary"):
        generate_with_soft_prompt(model, soft, [[VOCAB + 3]], 4)
    with pytest.raises(ValueError, match="at least one token"):
        generate_with_adapters(model, [[]], 4)
    # a soft prompt alone is enough context
    assert len(generate_with_soft_prompt(model, soft, [[]], 4, temperature=0)[0]) == 4


# --- LoRA ------------------------------------------------------------------------------------
def randomise_b(lora, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora.layers.values():
            B = layer.lora_B[lora.name]
            B.copy_(torch.randn(B.shape, generator=g) * 0.1)


@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_lora_starts_equal_merges_and_unmerges(preset):
    model = tiny(preset)
    x = batch()
    base_logits = model(x)[0]
    before = snapshot(model)
    lora = LoRA(model, LoRAConfig(r=4, alpha=8))
    assert sorted(lora.layers) == [f"blocks.{i}.attn.{p}" for i in range(2) for p in ("q_proj", "v_proj")]
    assert isinstance(model.blocks[0].attn.q_proj, LoRALinear)
    assert set(model.state_dict()) >= set(before)              # base tensor names unchanged
    assert torch.equal(model(x)[0], base_logits)               # B = 0: exactly the base model
    randomise_b(lora)
    unmerged = model(x)[0]
    assert (unmerged - base_logits).abs().max() > 1e-3
    lora.merge()
    merged = model(x)[0]
    torch.testing.assert_close(merged, unmerged, atol=1e-5, rtol=1e-5)
    assert not torch.equal(model.blocks[0].attn.q_proj.weight, before["blocks.0.attn.q_proj.weight"])
    lora.unmerge()
    for k, v in before.items():
        torch.testing.assert_close(model.state_dict()[k], v, atol=1e-6, rtol=0)
    torch.testing.assert_close(model(x)[0], unmerged, atol=1e-5, rtol=1e-5)
    lora.remove()
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    torch.testing.assert_close(model(x)[0], base_logits, atol=1e-6, rtol=0)


def test_lora_targets_counts_and_errors():
    model = tiny()
    x = batch()
    base_logits = model(x)[0]
    lora = LoRA(model, LoRAConfig(r=2, targets=("all",)), name="every")
    per_block = {"attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                 "mlp.down_proj"}
    assert {n.split(".", 2)[2] for n in lora.layers} == per_block
    expected = sum(2 * (m.in_features + m.out_features) for m in lora.layers.values())
    assert lora.num_parameters() == expected
    assert mark_only_adapters_trainable(model) == expected
    summary = parameter_summary(model)
    assert summary["trainable"] == expected and 0 < summary["trainable_pct"] < 100
    globbed = LoRA(model, LoRAConfig(targets=("blocks.1.mlp.*",)), name="mlp1")
    assert sorted(globbed.layers) == ["blocks.1.mlp.down_proj", "blocks.1.mlp.gate_proj", "blocks.1.mlp.up_proj"]
    assert adapter_names(model) == ["every", "mlp1"]
    randomise_b(lora)
    set_active_adapters(model, "mlp1")         # layers that only "every" adapts pass through
    assert torch.equal(model(x)[0], base_logits)
    set_active_adapters(model, ["mlp1", "every", None])
    rows = model(x)[0]
    assert torch.equal(rows[0], base_logits[0]) and torch.equal(rows[2], base_logits[2])
    assert not torch.allclose(rows[1], base_logits[1])
    with pytest.raises(ValueError, match="no Linear layer matches"):
        LoRA(model, LoRAConfig(targets=("c_attn",)), name="x")
    with pytest.raises(ValueError, match="tied"):
        LoRA(model, LoRAConfig(targets=("lm_head",)), name="head")
    with pytest.raises(ValueError, match="already has"):
        LoRA(model, LoRAConfig(), name="every")
    with pytest.raises(ValueError, match="no dots"):
        LoRA(model, LoRAConfig(), name="a.b")
    with pytest.raises(ValueError, match="unknown LoRA adapter"):
        set_active_adapters(model, "nope")
    with pytest.raises(ValueError, match="rank"):
        LoRAConfig(r=0)


def test_lora_training_touches_only_adapters():
    model = tiny()
    before = snapshot(model)
    lora = LoRA(model, LoRAConfig(r=4, alpha=8, dropout=0.1, targets=("all",)))
    mark_only_adapters_trainable(model)
    x, y = next(task_batches(seed=5))
    model.train()
    _, loss = model(x, targets=y)
    loss.backward()
    assert all(layer.lora_B["default"].grad.abs().sum() > 0 for layer in lora.layers.values())
    lora_ids = {id(p) for p in lora.parameters()}
    assert all(p.grad is None for p in model.parameters() if id(p) not in lora_ids)
    model.zero_grad(set_to_none=True)
    before_loss, after_loss = train(model, steps=20, lr=1e-2)
    assert after_loss < before_loss - 0.3
    for k, v in before.items():
        assert torch.equal(model.state_dict()[k], v), k
    assert all(layer.lora_A["default"].grad is None for layer in lora.layers.values())


# --- one base model, many tasks -----------------------------------------------------------------
def make_bank(model):
    bank = AdapterBank(model)
    bank.add("short", SoftPrompt(model, SoftPromptConfig(n_tokens=2, init="random", seed=1)))
    bank.add("long", SoftPrompt(model, SoftPromptConfig(n_tokens=5, init="random", seed=2)))
    bank.add("prefix", PrefixTuning(model, PrefixConfig(n_prefix=3, mlp_hidden=8, seed=3)))
    for seed, name in ((4, "lora_a"), (5, "lora_b")):
        lora = LoRA(model, LoRAConfig(r=2, seed=seed), name=name)
        randomise_b(lora, seed)
        bank.add(name, lora)
    with torch.no_grad():
        for p in bank.adapters["prefix"].mlp[2].parameters():     # a prefix that moved off its init
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(6)) * 0.05)
    return bank


@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_mixed_task_batch_equals_per_task_runs(preset):
    model = tiny(preset)
    bank = make_bank(model)
    tasks = ["short", "long", "prefix", "lora_a", None, "lora_b", "short"]
    prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15], [16], [17, 18], [19, 20, 21, 22]]
    mixed = bank.logits(tasks, prompts)
    for task, prompt, logits in zip(tasks, prompts, mixed, strict=True):
        x = torch.tensor([prompt])
        adapter = bank.adapters.get(task)
        set_active_adapters(model, task if isinstance(adapter, LoRA) else None)
        if isinstance(adapter, SoftPrompt):
            alone = SoftPromptModel(model, adapter, freeze_base=False)(x)[0][0]
        elif isinstance(adapter, PrefixTuning):
            alone = PrefixModel(model, adapter, freeze_base=False)(x)[0][0]
        else:
            alone = model(x)[0][0]
        torch.testing.assert_close(logits, alone, atol=1e-5, rtol=1e-5)
    mixed_out = bank.generate(tasks, prompts, 8, temperature=0)
    single_out = [bank.generate([t], [p], 8, temperature=0)[0] for t, p in zip(tasks, prompts, strict=True)]
    assert mixed_out == single_out
    assert len({tuple(o) for o in mixed_out}) > 3                     # the tasks really differ
    assert mixed_out == bank.generate(tasks, prompts, 8, temperature=0, use_cache=False)
    assert list(bank.summary()["kind"]) == ["soft_prompt", "soft_prompt", "prefix", "lora", "lora"]


def test_soft_prompt_and_prefix_on_the_same_row():
    model = tiny("gqa")
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=3, init="random", seed=1))
    prefix = PrefixTuning(model, PrefixConfig(n_prefix=2, reparameterize=False))
    prompts = [[1, 2, 3, 4], [5, 6]]
    both = adapter_logits(model, prompts, soft_prompts=[soft, None], prefixes=[prefix, prefix])
    x = torch.tensor([prompts[0]])
    alone = PrefixModel(model, prefix, freeze_base=False)(None, inputs_embeds=soft.prepend(model.wte(x)))[0]
    torch.testing.assert_close(both[0], alone[0, 3:], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[1], PrefixModel(model, prefix)(torch.tensor([prompts[1]]))[0][0],
                               atol=1e-5, rtol=1e-5)


def test_lora_per_row_selection_errors_and_switching():
    model = tiny()
    bank = make_bank(model)
    a, b = bank.adapters["lora_a"], bank.adapters["lora_b"]
    x = batch(B=2)
    set_active_adapters(model, ["lora_a", None])
    with pytest.raises(ValueError, match="one entry per row"):
        model(batch(B=3))
    rows = model(x)[0]
    set_active_adapters(model, None)
    torch.testing.assert_close(rows[1], model(x)[0][1], atol=1e-6, rtol=0)
    a.activate()
    torch.testing.assert_close(rows[0], model(x)[0][0], atol=1e-6, rtol=0)
    a.merge()
    with pytest.raises(ValueError, match="unmerge"):
        b.activate()
    with pytest.raises(ValueError, match="already merged"):
        a.merge()
    a.unmerge()
    set_active_adapters(model, [b, b])                 # LoRA handles work as well as names
    expected = model(x)[0]
    b.merge()                                          # merging makes b the active adapter
    torch.testing.assert_close(model(x)[0], expected, atol=1e-5, rtol=1e-5)
    b.unmerge()


# --- save and load -----------------------------------------------------------------------------
def test_save_load_round_trips(tmp_path):
    model = tiny()
    bank = make_bank(model)
    x = batch(B=2, T=6)
    prompts = x.tolist()
    for task in ("long", "prefix", "lora_a"):
        adapter = bank.adapters[task]
        want = bank.logits([task, task], prompts)
        path = save_adapter(adapter, tmp_path / task, model)
        meta = read_adapter_meta(path)
        assert meta["kind"] == adapter.kind and meta["base"]["n_embd"] == 32
        assert adapter_file_size(path) < 20_000
        fresh = tiny()                                             # same seed: same base weights
        fresh_bank = AdapterBank(fresh)
        loaded = fresh_bank.load("loaded", path)
        assert type(loaded) is type(adapter) and loaded.num_parameters() == meta["num_parameters"]
        got = fresh_bank.logits(["loaded", "loaded"], prompts)
        for w, g in zip(want, got, strict=True):
            assert torch.equal(w, g)
        row = fresh_bank.summary().iloc[0]
        assert row["bytes_on_disk"] == adapter_file_size(path) and row["parameters"] == meta["num_parameters"]
    # folded on save: the reparameterised prefix comes back as two plain tensors
    prefix_meta = read_adapter_meta(tmp_path / "prefix")
    assert prefix_meta["config"]["reparameterize"] is False and prefix_meta["num_parameters"] == 2 * 2 * 2 * 3 * 16
    # deterministic: same seed, same bytes
    again = SoftPrompt(model, SoftPromptConfig(n_tokens=5, init="random", seed=2))
    save_adapter(again, tmp_path / "again", model)
    for name in ("adapter.safetensors", "adapter.json"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "long" / name).read_bytes()


def test_load_refuses_the_wrong_base(tmp_path):
    model = tiny()
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=3))
    save_adapter(soft, tmp_path / "soft", model)
    lora = LoRA(model, LoRAConfig(r=2))
    save_adapter(lora, tmp_path / "lora", model)
    wider = tiny(n_embd=64)
    with pytest.raises(ValueError, match=r"n_embd=32.*this model has n_embd=64"):
        load_adapter(tmp_path / "soft", wider)
    other_vocab = GPT(GPTConfig.modern(vocab_size=VOCAB + 10, n_layer=2, n_head=2, n_embd=32, context_length=64))
    with pytest.raises(ValueError, match="vocab_size=107"):
        load_adapter(tmp_path / "lora", other_vocab)
    assert not any(isinstance(m, LoRALinear) for m in other_vocab.modules())
    reseeded = tiny(seed=1)
    with pytest.raises(ValueError, match="check_fingerprint=False"):
        load_adapter(tmp_path / "soft", reseeded)
    assert load_adapter(tmp_path / "soft", reseeded, check_fingerprint=False).n_tokens == 3
    with pytest.raises(ValueError, match="not a saved adapter"):
        load_adapter(tmp_path / "missing", model)
    weights = tmp_path / "soft" / "adapter.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ValueError, match="checksum"):
        load_adapter(tmp_path / "soft", model)
    meta_file = tmp_path / "lora" / "adapter.json"
    meta = json.loads(meta_file.read_text())
    meta["format"] = "something-else"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        load_adapter(tmp_path / "lora", model)
