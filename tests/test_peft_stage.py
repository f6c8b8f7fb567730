"""PEFT tasks and stage: TinyWorld task examples, answer-only targets, hand-written prompts that
fit the context, exact-match scoring, and the sweep's training of every method on a tiny model."""

import pytest
import torch

from minillm.model import GPT, GPTConfig
from minillm.peft import (
    LoRA,
    PrefixTuning,
    SoftPrompt,
    SoftPromptConfig,
    SoftPromptModel,
    load_adapter,
)
from minillm.peft.stage import (
    PEFTConfig,
    Run,
    _save,
    evaluate_run,
    hand_written,
    headline,
    make_adapter,
    runs_for,
    train_run,
)
from minillm.peft.tasks import (
    TaskBatches,
    encode_task,
    few_shot_text,
    fitting,
    fitting_shots,
    is_correct,
    prompt_ids,
    query,
    solved,
    task_examples,
    task_of,
    task_replies,
)
from minillm.tokenizer import to_tiktoken, train_bpe


@pytest.fixture(scope="module")
def enc(world):
    examples = task_examples(world, "train", "kind", 60) + task_examples(world, "train", "mood", 10)
    text = [few_shot_text(e, []) + f" {e.answer}\n" for e in examples]
    return to_tiktoken(train_bpe(text, 400, name="peft-test").tokenizer)


def tiny_model(enc, seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig.modern(vocab_size=enc.n_vocab, n_layer=2, n_head=2, n_embd=32,
                                context_length=96)).eval()


def test_task_examples_are_deterministic_split_and_labelled(world):
    train = task_examples(world, "train", "kind", 40)
    assert train == task_examples(world, "train", "kind", 40)
    test = task_examples(world, "test", "kind", 20)
    assert not {e.question for e in train} & {e.question for e in test}
    for e in train:
        assert e.task == "kind" and e.answer in e.question        # "Is X a city or a river?"
    moods = task_examples(world, "test", "mood", 10)
    assert {e.answer for e in moods} <= {"positive", "negative"}
    places = task_examples(world, "test", "place", 5)
    assert all(e.answer in e.question for e in places)          # the city is in the story
    with pytest.raises(ValueError, match="unknown task"):
        task_examples(world, "train", "poetry", 3)


def test_task_of_picks_the_families(world):
    from minillm.data.tinyworld.sft import make_sft_examples

    seen = {task_of(e) for e in make_sft_examples(world, "train", n_per_family=30)}
    assert seen == {None, "mood", "kind", "place"}


def test_batches_train_only_the_answer_and_the_newline(world, enc):
    examples = task_examples(world, "train", "kind", 10)
    items = encode_task(enc, examples, 96, reserve=5)
    x, y = next(TaskBatches(items, batch_size=4, pad_id=enc.eot_token, seed=1))
    assert x.shape == y.shape and x.shape[0] == 4
    answers = {f" {e.answer}\n" for e in examples}
    for row in range(4):
        trained = y[row][y[row] != -100].tolist()
        assert enc.decode(trained) in answers
        first = int((y[row] != -100).nonzero()[0])
        assert enc.decode(x[row, :first + 1].tolist()).endswith("\nA:")   # input ends the question
    same = next(TaskBatches(items, batch_size=4, pad_id=enc.eot_token, seed=1))
    assert torch.equal(same[0], x)
    with pytest.raises(ValueError, match="context_length"):
        encode_task(enc, examples, 96, reserve=90)
    lengths = sorted(len(prompt_ids(enc, solved(e))) for e in examples)
    assert lengths[0] < lengths[-1]
    limit = lengths[0] + 2  # only the shortest prompts fit
    short = fitting(enc, examples, limit, reserve=2)
    assert 0 < len(short) < len(examples)
    assert all(len(prompt_ids(enc, solved(e))) + 2 <= limit for e in short)
    with pytest.raises(ValueError, match="no training examples"):
        TaskBatches([], 4, 0)


def test_hand_written_prompts_fit_the_context(world, enc):
    shots = task_examples(world, "train", "mood", 8)
    example = task_examples(world, "test", "mood", 1)[0]
    chosen = fitting_shots(enc, example, shots, 6, context_length=200, room=8)
    assert len(chosen) < 6                                     # mood stories are long
    assert 1 + len(enc.encode_ordinary(few_shot_text(example, chosen))) <= 192
    text = few_shot_text(example, chosen)
    assert text.endswith(query(example)) and text.count("\nA:") == len(chosen) + 1


def test_exact_match_scoring(world):
    example = task_examples(world, "test", "kind", 1)[0]
    assert is_correct(f"{example.answer.upper()}.", example)
    assert not is_correct(f"a {example.answer}", example)


def test_replies_stop_at_the_newline_and_fit_long_prompts(world, enc):
    model = tiny_model(enc)
    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=4, init="random", seed=1))
    prompts = [query(e) for e in task_examples(world, "test", "kind", 3)]
    plain = task_replies(model, enc, prompts)
    softened = task_replies(model, enc, prompts, soft_prompts=soft)
    assert all("\n" not in r for r in plain + softened)
    assert len(plain) == len(softened) == 3
    too_long = ["Q: " + "Is it a city? " * 60 + "\nA:"]            # keeps its end, soft prompt too
    assert len(task_replies(model, enc, too_long, soft_prompts=soft)) == 1


def test_runs_cover_every_method():
    config = PEFTConfig(tasks=("kind",), train_per_task=8, test_per_task=4, steps=2, batch_size=2,
                        prompt_lengths=(1, 5), prompt_inits=("random",), lora_ranks=(2,))
    names = [r.name for r in runs_for(config, "kind")]
    assert names == ["soft_text_1", "soft_text_5", "soft_random_5", "prefix_10", "lora_r2", "full"]
    assert [r.name for r in runs_for(config, "mood")] == ["soft_text_5", "prefix_10", "lora_r2", "full"]


def test_every_method_trains_only_its_parameters_and_learns(world, enc, tmp_path):
    base = tiny_model(enc)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    train = task_examples(world, "train", "kind", 48)
    config = PEFTConfig(tasks=("kind",), train_per_task=48, test_per_task=8, steps=40, batch_size=8,
                        prefix_length=4, lr_prompt=1.0, lr_prefix=3e-2, lr_lora=3e-2, lr_full=1e-2)
    total = sum(p.numel() for p in base.parameters())
    seen = {}
    for run in (Run("soft_text_4", "soft_prompt", 4, "text"), Run("prefix_4", "prefix", 4),
                Run("lora_r2", "lora", 2), Run("full", "full")):
        trained = train_run(run, base, enc, "kind", train, config)
        losses = trained["history"].loss
        if run.kind == "soft_prompt":
            # on a random model a soft prompt moves the loss least (attention to it is weak):
            # compare the loss on one fixed batch with the untrained prompt's, without noise
            x, y = next(TaskBatches(encode_task(enc, train, 96, 4), 16, enc.eot_token, seed=9))
            fresh = SoftPromptModel(base, make_adapter(run, base, enc, "kind"))
            with torch.no_grad():
                drop = float(fresh(x, y)[1]) - float(SoftPromptModel(base, trained["adapter"])(x, y)[1])
            assert drop > 0.01, drop
        else:
            assert losses.tail(5).mean() < losses.head(5).mean() - 0.3, run.name
        seen[run.kind] = trained["trainable"]
        assert trained["state_bytes"] >= 4 * total + 12 * trained["trainable"]
        assert len(evaluate_run(run, trained, enc, task_examples(world, "test", "kind", 4))) == 4
        size = _save(run, trained, tmp_path / run.name, base)
        assert size > 0
        if run.kind != "full":
            loaded = load_adapter(tmp_path / run.name, tiny_model(enc), name="kind")
            assert isinstance(loaded, {"soft_prompt": SoftPrompt, "prefix": PrefixTuning,
                                       "lora": LoRA}[run.kind])
    for k, v in before.items():                   # the base model itself never changes
        assert torch.equal(base.state_dict()[k], v), k
    assert seen["soft_prompt"] == 4 * 32
    assert seen["prefix"] > seen["soft_prompt"] and seen["full"] == total
    assert seen["lora"] == 2 * 2 * 2 * (32 + 32)   # 2 layers x (q, v) x r=2 x (in + out)


def test_headline_compares_lora_with_full_fine_tuning():
    import pandas as pd

    table = pd.DataFrame([
        {"task": "kind", "method": "3-shot", "kind": "hand-written", "accuracy": 0.1, "trainable": 0},
        {"task": "kind", "method": "soft_text_20", "kind": "soft_prompt", "accuracy": 0.7,
         "trainable": 2560},
        {"task": "kind", "method": "lora_r1", "kind": "lora", "accuracy": 0.8, "trainable": 2048},
        {"task": "kind", "method": "lora_r64", "kind": "lora", "accuracy": 0.99, "trainable": 90_000},
        {"task": "kind", "method": "full", "kind": "full", "accuracy": 0.9, "trainable": 1_000_000},
    ])
    out = headline(table)
    assert out["kind_soft_minus_hand"] == pytest.approx(0.6)
    assert out["kind_lora_best_small"] == "lora_r1"           # r64 is over 2% of the parameters
    assert out["kind_lora_over_full"] == pytest.approx(0.8 / 0.9, abs=1e-4)


def test_hand_written_prompts_report_how_many_shots_fit(world, enc):
    model = tiny_model(enc)
    train, test = task_examples(world, "train", "kind", 6), task_examples(world, "test", "kind", 4)
    out = hand_written(model, enc, train, test, few_shot=3)
    assert set(out) == {"zero-shot", "few-shot"}
    assert out["zero-shot"][1] == 0 and 0 < out["few-shot"][1] <= 3
    assert all(len(replies) == 4 for replies, _ in out.values())
