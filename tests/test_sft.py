"""SFT: chat template, loss masks, packing, embedding resize, masked loss, chat stopping."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from minillm.model import GPT, GPTConfig, resize_vocab
from minillm.sft import (
    ConversationError,
    SFTBatches,
    add_chat_tokens,
    encode_conversation,
    encode_examples,
    encode_prompt,
    end_token,
    few_shot_prompt,
    make_batch,
    pack_rows,
    parse,
    render,
    reply,
    sft_loss,
)
from minillm.sft.chat import Chat
from minillm.sft.data import IGNORE
from minillm.tokenizer import load_encoding, to_tiktoken, train_bpe

TEXT = ["The capital of Velora is Brenno. What is 2 + 3? It is 5.", "Hello there, how are you?"] * 20

CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is 2 + 3?"},
    {"role": "assistant", "content": "It is 5."},
    {"role": "user", "content": "And 2 + 4?"},
    {"role": "assistant", "content": "6."},
]


@pytest.fixture(scope="module")
def enc():
    return to_tiktoken(train_bpe(TEXT, 300, name="sft-test").tokenizer)


def tiny_model(vocab_size: int, seed: int = 0, **kw) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.modern(vocab_size=vocab_size, n_layer=2, n_head=2, n_embd=32,
                                context_length=96, **kw)).eval()


def conv(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


# --- template -------------------------------------------------------------------------------

def test_render_parse_round_trip():
    text = render(CONVERSATION)
    assert text == ("<|system|>Be brief.<|end|><|user|>What is 2 + 3?<|end|><|assistant|>It is 5."
                    "<|end|><|user|>And 2 + 4?<|end|><|assistant|>6.<|end|>")
    assert parse(text) == CONVERSATION
    prompt = render(CONVERSATION[:4], add_generation_prompt=True)
    assert prompt.endswith("<|user|>And 2 + 4?<|end|><|assistant|>")
    assert parse(prompt) == CONVERSATION[:4]


@pytest.mark.parametrize("messages, match", [
    ([], "non-empty"),
    ([{"role": "assistant", "content": "hi"}], "'user' was expected"),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "'assistant' was expected"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "  "}], "empty content"),
    ([{"role": "bot", "content": "a"}], "roles are"),
    ([{"role": "user", "content": "a <|assistant|> b"}, {"role": "assistant", "content": "c"}],
     "special token"),
    ([{"role": "system", "content": "s"}], "system prompt alone"),
    ([{"role": "user", "content": "only a question"}], "must end with an assistant turn"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
      {"role": "system", "content": "late"}], "'user' was expected"),
])
def test_malformed_conversations_raise_clear_errors(messages, match):
    with pytest.raises(ConversationError, match=match):
        render(messages)


def test_generation_prompt_must_end_with_the_user():
    with pytest.raises(ConversationError, match="must end with a user turn"):
        render(CONVERSATION, add_generation_prompt=True)


def test_parse_rejects_stray_text():
    with pytest.raises(ConversationError, match="between turns"):
        parse("hello<|user|>a<|end|>")


def test_loss_mask_covers_exactly_the_assistant_tokens(enc):
    ids, mask = encode_conversation(enc, CONVERSATION)
    assert len(ids) == len(mask)
    assert enc.decode(ids) == render(CONVERSATION)
    trained = [i for i, m in zip(ids, mask, strict=True) if m]
    end = end_token(enc)
    expected = enc.encode_ordinary("It is 5.") + [end] + enc.encode_ordinary("6.") + [end]
    assert trained == expected
    assert enc.decode(encode_prompt(enc, CONVERSATION[:4])) == render(CONVERSATION[:4], True)


def test_tokenizer_without_chat_tokens_gets_a_clear_error_and_a_fix():
    cl100k = load_encoding("cl100k_base")
    with pytest.raises(ValueError, match="add_chat_tokens"):
        encode_conversation(cl100k, conv("a", "b"))
    chat = add_chat_tokens(cl100k)
    assert chat.n_vocab == cl100k.n_vocab + 4
    sample = "The capital of Velora is Brenno."
    assert chat.encode_ordinary(sample) == cl100k.encode_ordinary(sample)   # old ids unchanged
    ids, mask = encode_conversation(chat, conv("hi", "hello"))
    assert max(ids) >= cl100k.n_vocab and sum(mask) == len(chat.encode_ordinary("hello")) + 1
    assert add_chat_tokens(chat) is chat


# --- embedding resize -----------------------------------------------------------------------

@pytest.mark.parametrize("tied", [True, False])
def test_resize_vocab_preserves_old_rows_and_outputs(tied):
    model = tiny_model(50, tie_embeddings=tied)
    old_wte = model.wte.weight.detach().clone()
    old_head = model.lm_head.weight.detach().clone()
    x = torch.randint(0, 50, (2, 10))
    before = model(x)[0]
    resize_vocab(model, 64)
    assert model.config.vocab_size == 64 and model.wte.weight.shape == (64, 32)
    assert torch.equal(model.wte.weight[:50], old_wte)
    assert torch.equal(model.lm_head.weight[:50], old_head)
    assert torch.allclose(model.wte.weight[50:], old_wte.mean(0).expand(14, -1))
    assert (model.lm_head.weight is model.wte.weight) == tied
    after = model(x)[0]
    assert torch.allclose(after[..., :50], before, atol=1e-6)   # old tokens' logits unchanged
    model(torch.tensor([[63]]))                                  # new ids are valid inputs
    with pytest.raises(ValueError, match="only grows"):
        resize_vocab(model, 10)


# --- batches, packing and the masked loss --------------------------------------------------

def encoded(enc, n=6):
    pairs = [(f"What is {i} + 1?", f"It is {i + 1}.") for i in range(n)]
    return encode_examples(enc, [conv(q, a) for q, a in pairs], context_length=64)


def test_packed_targets_are_exactly_the_assistant_tokens(enc):
    items = encoded(enc)
    rows = pack_rows(items, 64)
    assert sum(len(r) for r in rows) == len(items) and len(rows) < len(items)
    batch = make_batch(rows, 64, pad_id=end_token(enc), pack=True)
    for b, row in enumerate(rows):
        got = [t for t in batch["y"][b].tolist() if t != IGNORE]
        want = [t for item in row for t, m in zip(item.ids[1:], item.mask[1:], strict=True) if m]
        assert got == want


def test_packed_rows_compute_what_each_conversation_computes_alone(enc):
    model = tiny_model(enc.n_vocab)
    items = encoded(enc, 3)
    rows = [items]                                        # all three in one row
    with pytest.raises(ValueError, match="does not fit"):
        make_batch([encoded(enc, 6)], 64, pad_id=0)
    batch = make_batch(rows, 64, pad_id=end_token(enc), pack=True)
    packed = model(batch["x"], positions=batch["positions"], attention_mask=batch["attention_mask"])[0]
    start = 0
    for item in items:
        x = torch.tensor([item.ids[:-1]])
        alone = model(x)[0][0]
        assert torch.allclose(packed[0, start:start + len(item.ids) - 1], alone, atol=1e-5)
        start += len(item.ids) - 1


def test_masked_loss_equals_a_hand_computed_value(enc):
    model = tiny_model(enc.n_vocab)
    items = encoded(enc, 3)
    batch = make_batch([[i] for i in items], 64, pad_id=end_token(enc), pack=False)
    loss = sft_loss(model, batch)
    logits = model(batch["x"])[0]
    terms = []
    for b, item in enumerate(items):
        for t in range(len(item.ids) - 1):
            if item.mask[t + 1]:
                terms.append(-F.log_softmax(logits[b, t], -1)[item.ids[t + 1]])
    assert torch.allclose(loss, torch.stack(terms).mean(), atol=1e-6)


def test_batches_are_seeded_resumable_and_mix_pretraining_rows(enc):
    items = encoded(enc, 12)
    tokens = np.arange(500) % enc.n_vocab
    make = lambda: SFTBatches(items, 4, 64, pad_id=end_token(enc), seed=3, pack=False,  # noqa: E731
                              mix_tokens=tokens, mix_fraction=0.5)
    a, b = make(), make()
    for _ in range(5):
        x, y = next(a), next(b)
        assert torch.equal(x["x"], y["x"]) and torch.equal(x["y"], y["y"])
    assert x["x"].shape == (4, 64)
    assert torch.equal(x["x"][2:, 1:], x["y"][2:, :-1])       # the two mixed rows: plain LM text
    state = a.state_dict()
    expected = [next(a)["x"] for _ in range(3)]
    c = make()
    c.load_state_dict(state)
    assert all(torch.equal(next(c)["x"], e) for e in expected)
    with pytest.raises(ValueError, match="mix_tokens"):
        SFTBatches(items, 4, 64, pad_id=0, mix_fraction=0.5)


def test_too_long_conversations_are_dropped_or_rejected(enc):
    long = conv("word " * 80, "ok")
    with pytest.warns(UserWarning, match="dropped 1"):
        kept = encode_examples(enc, [long, conv("a", "b")], context_length=32)
    assert len(kept) == 1
    with pytest.raises(ValueError, match="longer than"):
        encode_examples(enc, [long], context_length=32, on_too_long="error")


def test_sft_training_learns_to_answer(enc):
    from minillm.train import TrainConfig, Trainer

    model = tiny_model(enc.n_vocab)
    items = encoded(enc, 4)
    batches = SFTBatches(items, 4, 64, pad_id=end_token(enc), seed=0)
    history = Trainer(model, TrainConfig(max_steps=60, lr=3e-3, warmup_steps=5, eval_every=0),
                      batches, loss_fn=sft_loss, progress=False).fit()
    assert history.loss.iloc[-5:].mean() < 0.5 * history.loss.iloc[:5].mean()
    # the reply has the trained form and stops at <|end|> (a tiny model need not get the sum right)
    assert re.fullmatch(r"It is \d+\.", reply(model, enc, "What is 2 + 1?"))


# --- chat -------------------------------------------------------------------------------------

class Scripted(torch.nn.Module):
    """A fake model that emits a fixed script of tokens, one per generated position."""

    def __init__(self, script, vocab_size, prompt_length):
        super().__init__()
        self.script, self.prompt_length = script, prompt_length
        self.config = GPTConfig.modern(vocab_size=vocab_size, n_layer=1, n_head=1, n_embd=8,
                                       context_length=96)
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    @property
    def device(self):
        return self.anchor.device

    def forward(self, idx, positions=None, attention_mask=None, cache=None, **_):
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if cache is not None:
            cache.advance(T)
        logits = torch.zeros(B, T, self.config.vocab_size)
        for t in range(T):
            step = start + t - self.prompt_length + 1           # the token this position predicts
            if 0 <= step < len(self.script):
                logits[:, t, self.script[step]] = 10.0
        return logits, None


def test_chat_stops_at_end_of_turn_and_keeps_history(enc):
    end = end_token(enc)
    words = enc.encode_ordinary("Hi there")
    after = enc.encode_ordinary(" LEAKED")
    prompt_length = len(encode_prompt(enc, [{"role": "user", "content": "hello"}]))
    model = Scripted(words + [end] + after, enc.n_vocab, prompt_length)
    assert reply(model, enc, "hello") == "Hi there"
    chat = Chat(model, enc)
    chat("hello")
    assert chat.messages == conv("hello", "Hi there")


def test_few_shot_prompt_format():
    prompt = few_shot_prompt([("What is 1 + 1?", "2.")], [{"role": "system", "content": "x"},
                                                        {"role": "user", "content": "What is 2 + 2?"}])
    assert prompt == "Q: What is 1 + 1?\nA: 2.\n\nQ: What is 2 + 2?\nA:"


def test_online_chat_data_reads_local_files_and_falls_back_offline(tmp_path, monkeypatch):
    from pathlib import Path

    from minillm.sft.data import chat_conversations

    fixture = Path(__file__).parent / "fixtures" / "online" / "smoltalk.jsonl"
    broken = tmp_path / "smoltalk.jsonl"
    broken.write_text(fixture.read_text() + '{"messages": [{"role": "assistant", "content": "x"}]}\n')
    with pytest.warns(UserWarning, match="left out 1"):
        conversations, source = chat_conversations("smoltalk", n_rows=50, data_files=broken)
    assert source == "local" and conversations and conversations[0][0]["content"] == "Hi there"
    monkeypatch.setattr("minillm.data.online.hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr("minillm.data.build.load_sft", lambda split: [
        type("Ex", (), {"messages": conv("q", "a")})()])
    conversations, source = chat_conversations("smoltalk", n_rows=5)
    assert source == "embedded" and conversations == [conv("q", "a")]


def test_loss_mask_html_marks_trained_tokens(enc):
    from minillm.sft.template import loss_mask_html

    ids, mask = encode_conversation(enc, CONVERSATION)
    page = loss_mask_html(enc, ids, mask)
    assert page.count("#b7e4b0") == sum(mask) and page.count("#e6e6e6") == len(ids) - sum(mask)
    assert f"{sum(mask)} of {len(ids)} tokens trained" in page


def test_training_examples_add_jailbreak_demonstrations_on_train_requests_only(minillm_home, world):
    from dataclasses import replace

    from minillm import artifacts, profiles
    from minillm.data.tinyworld.sft import split_of
    from minillm.evaluate import PATTERNS, make_redteam_set
    from minillm.sft.stage import training_examples

    inputs = {name: artifacts.get(name) for name in ("tinyworld_sft", "tinyworld_world")}
    config = replace(profiles.stage_config("sft"), train_per_family=5, redteam_per_pattern=0)
    plain = training_examples(config, inputs)
    wrapped = training_examples(replace(config, redteam_per_pattern=3), inputs)
    assert wrapped[:len(plain)] == plain                     # the SFT examples come first, unchanged
    demos = wrapped[len(plain):]
    assert len(demos) == len(PATTERNS) * 6                   # 3 harmful + 3 benign per pattern
    assert {e.meta["pattern"] for e in demos} == set(PATTERNS)
    assert sum(e.meta["harmful"] for e in demos) == len(demos) // 2
    for e in demos:                                          # the reference reply is the target
        reply = e.messages[-1]["content"]
        assert e.messages[-1]["role"] == "assistant"
        assert reply.startswith("I'm sorry, but I can't help") == e.meta["harmful"]
        assert split_of(f"request|{e.meta['request']}") == "train"
    attacks = make_redteam_set(world, seed=0, n_harmful_per_pattern=10, n_benign_per_pattern=5)
    assert not {e.meta["request"] for e in demos} & {e.meta["request"] for e in attacks}


def test_extra_fact_qa_adds_new_fact_questions_from_the_train_split(minillm_home):
    from dataclasses import replace

    from minillm import artifacts, profiles
    from minillm.data.build import load_sft
    from minillm.sft.stage import training_examples

    inputs = {name: artifacts.get(name) for name in ("tinyworld_sft", "tinyworld_world")}
    config = replace(profiles.stage_config("sft"), train_per_family=5, redteam_per_pattern=0)
    plain = training_examples(config, inputs)
    more = training_examples(replace(config, extra_fact_qa=7), inputs)
    assert more[:len(plain)] == plain                        # the usual examples come first
    extra = more[len(plain):]
    assert len(extra) == 7 and {e.family for e in extra} == {"fact_qa"}
    prompts = [str(e.prompt) for e in more if e.family == "fact_qa"]
    assert len(set(prompts)) == len(prompts) == 12           # new questions, not repeats
    held = {str(e.prompt) for split in ("validation", "test")
            for e in load_sft(split, inputs["tinyworld_sft"])}
    assert not held & set(prompts)                           # none from validation or test


def test_rehearsal_reads_the_base_models_own_data_mix(minillm_home):
    from collections import Counter

    from minillm import artifacts
    from minillm.pretrain import pretraining_mix
    from minillm.sft.stage import rehearsal_tokens
    from minillm.tokenizer.shards import split_documents
    from minillm.tokenizer.stage import load_token_shard, load_tokenizer

    inputs = {name: artifacts.get(name) for name in ("token_shards", "tokenizer", "tinyworld_world")}
    shard = load_token_shard("train", inputs["token_shards"])
    eot = load_tokenizer(inputs["tokenizer"]).eot_token

    def with_base(config):   # rehearsal only reads the base model's settings
        return {**inputs, "base_model": artifacts.Artifact("base_model", "k", minillm_home, config)}

    plain = rehearsal_tokens(with_base({"upsample_rare": 0, "upsample_max_reads": 4, "seed": 0}))
    assert np.array_equal(plain, shard)                      # no mix: the shard as it is

    mixed = rehearsal_tokens(with_base({"upsample_rare": 20, "upsample_max_reads": 4, "seed": 0}))
    expected, mix = pretraining_mix(inputs, 20, 4, seed=0)
    assert np.array_equal(mixed, expected) and mix["train_tokens"] == len(mixed) > len(shard)
    shard_docs = Counter(tuple(d.tolist()) for d in split_documents(shard, eot))
    mixed_docs = Counter(tuple(d.tolist()) for d in split_documents(mixed, eot))
    assert set(mixed_docs) == set(shard_docs)                # every document, none invented
    repeats = [mixed_docs[d] // shard_docs[d] for d in shard_docs]
    assert max(repeats) == 4 and min(repeats) == 1
    assert sum(mixed_docs.values()) - sum(shard_docs.values()) == mix["extra_reads"] > 0
