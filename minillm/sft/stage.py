"""The sft stage: fine-tune the base model on TinyWorld conversations -> ``sft_model``.

The builder trains with the shared ``Trainer`` on packed conversations (loss on assistant tokens
only), rehearsing ``mix_fraction`` of pretraining text in every batch (the base model's own data
mix, ``rehearsal_tokens``), then measures on the held-out test split:

- per task family: accuracy (the gold judge's correctness: the right answer and no rival),
  mean gold-judge score, refusal rate on harmful and on benign-but-risky requests;
- the base model on the same prompts, asked few-shot in plain text (its best chance);
- forgetting: the pretraining validation loss before and after fine-tuning.

``sft_nomix`` is the same run without rehearsal, so the notebook can show what mixing buys.

    model = load_sft_model()                      # GPT, builds the artifact if needed
    evals = load_eval_table()                     # one row per (model, test example)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace

from minillm import artifacts, profiles
from minillm.model import GPT, GPTConfig


@dataclass(frozen=True)
class SFTConfig:
    max_steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    eval_per_family: int         # test examples per family scored after training
    train_per_family: int = 200  # training conversations per task family
    # more fact_qa conversations on top (new prompts, same split rule): a small model stores
    # most facts in pretraining but answers questions about them only with practice
    extra_fact_qa: int = 0
    # rows of every batch taken from pretraining text (``rehearsal_tokens``: the base model's own
    # mix): it limits forgetting, and reading the documents that state the facts while practising
    # questions about other facts is what makes a small model answer from what it stored
    mix_fraction: float = 0.4
    pack: bool = True
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    eval_every: int = 50
    few_shot: int = 2            # solved examples in the base model's prompts
    # jailbreak-wrapped harmful train-split requests per red-team pattern (and as many benign
    # look-alikes), answered with the reference refusal or help: refusal demonstrations
    # beyond the plain requests of the refusal family (notebook 09 attacks held-out requests)
    redteam_per_pattern: int = 0
    seed: int = 0


profiles.register_stage(
    "sft",
    configs={
        "smoke": SFTConfig(max_steps=30, batch_size=8, lr=2e-3, warmup_steps=5, eval_per_family=6,
                           eval_every=15, redteam_per_pattern=1),
        "cpu": SFTConfig(max_steps=1200, batch_size=16, lr=2e-3, warmup_steps=30,
                         eval_per_family=200, train_per_family=1500, extra_fact_qa=1500,
                         redteam_per_pattern=20),
        "gpu": SFTConfig(max_steps=1500, batch_size=32, lr=5e-4, warmup_steps=100,
                         eval_per_family=200, train_per_family=2000, eval_every=100,
                         redteam_per_pattern=30),
    },
    minutes={"smoke": 0.5, "cpu": 8, "gpu": 5},
    description="supervised fine-tuning on TinyWorld conversations",
)

DEPS = ("base_model", "tokenizer", "token_shards", "tinyworld_sft", "tinyworld_world")


def eval_examples(examples, per_family: int):
    """The first ``per_family`` examples of each family (the artifact keeps them in order)."""
    seen: dict[str, int] = {}
    out = []
    for ex in examples:
        if seen.get(ex.family, 0) < per_family:
            out.append(ex)
            seen[ex.family] = seen.get(ex.family, 0) + 1
    return out


def fits(encoding, example, context_length: int, room: int = 32) -> bool:
    """Whether the example's chat prompt leaves ``room`` tokens for the reply (small-vocabulary
    smoke tokenizers make long prompts; the cpu and gpu ones fit every test prompt)."""
    from minillm.sft.template import encode_prompt

    return len(encode_prompt(encoding, example.prompt)) <= context_length - room


def fitting(encoding, examples, context_length: int, room: int = 32) -> list:
    """The examples whose chat prompt leaves ``room`` tokens for a reply (``fits``)."""
    return [ex for ex in examples if fits(encoding, ex, context_length, room)]


def pretraining_val_loss(model, val_tokens, context_length: int, n_batches: int = 16,
                         batch_size: int = 16) -> float:
    """Mean next-token loss on fixed windows of the pretraining validation shard."""
    import torch

    from minillm.train import fixed_batches

    model.eval()
    losses = []
    with torch.no_grad():
        for x, y in fixed_batches(val_tokens, batch_size, context_length, n_batches):
            losses.append(float(model(x.to(model.device), targets=y.to(model.device))[1]))
    return sum(losses) / len(losses)


def answer(model, encoding, examples, mode: str = "chat", shots=()) -> list[str]:
    """The model's replies to the prompts of ``examples``: through the chat template
    (``mode="chat"``) or as a few-shot plain-text prompt (``"few_shot"``, for base models)."""
    from minillm.sft.chat import few_shot_prompt, few_shot_replies, replies

    if mode == "chat":
        return replies(model, encoding, [ex.prompt for ex in examples])
    if mode == "few_shot":
        prompts = [few_shot_prompt([s for s in shots if s.family == ex.family], ex.prompt)
                   for ex in examples]
        return few_shot_replies(model, encoding, prompts)
    raise ValueError(f"mode must be 'chat' or 'few_shot', got {mode!r}")


def score(examples, responses, judge, model_name: str):
    """One row per example: the evaluation module's scores plus the model's name."""
    from minillm.evaluate import score_responses

    return score_responses(examples, responses, judge).assign(model=model_name)


def _train(config: SFTConfig, inputs: dict, out_dir):
    """Fine-tune a fresh copy of the base model; return (model, trainer history, encoding)."""
    from minillm.data.build import load_sft
    from minillm.device import seed_everything
    from minillm.pretrain import load_base_model
    from minillm.sft.data import SFTBatches, encode_examples, sft_loss
    from minillm.sft.template import end_token
    from minillm.tokenizer.stage import load_tokenizer
    from minillm.train import TrainConfig, Trainer, watched_callbacks

    encoding = load_tokenizer(inputs["tokenizer"])
    seed_everything(config.seed)
    model = load_base_model(inputs["base_model"])
    T = model.config.context_length
    train = encode_examples(encoding, training_examples(config, inputs), T)
    val = encode_examples(encoding, load_sft("validation", inputs["tinyworld_sft"]), T)
    pad = end_token(encoding)
    batches = SFTBatches(train, config.batch_size, T, pad_id=pad, pack=config.pack, seed=config.seed,
                         mix_tokens=rehearsal_tokens(inputs) if config.mix_fraction else None,
                         mix_fraction=config.mix_fraction)
    val_batches = list(_first(SFTBatches(val, config.batch_size, T, pad_id=pad, pack=config.pack,
                                         seed=config.seed), 8))
    train_config = TrainConfig(max_steps=config.max_steps, lr=config.lr,
                               min_lr=config.lr * config.min_lr_ratio,
                               warmup_steps=config.warmup_steps, weight_decay=config.weight_decay,
                               eval_every=config.eval_every, log_every=max(1, config.max_steps // 40),
                               seed=config.seed)
    trainer = Trainer(model, train_config, batches, val_batches=val_batches, loss_fn=sft_loss,
                      callbacks=watched_callbacks())
    history = trainer.fit()
    trainer.save_metrics(out_dir)
    return trainer.model.cpu().eval(), history, encoding


def rehearsal_tokens(inputs: dict):
    """The pretraining text SFT rehearses: the mix the base model was trained on
    (``pretrain.pretraining_mix`` with the ``base_model`` artifact's own settings), so documents
    that state rarely named facts come back as often as they did in pretraining."""
    from minillm.pretrain import pretraining_mix

    base = inputs["base_model"].config
    base = base if isinstance(base, dict) else asdict(base)
    tokens, _ = pretraining_mix(inputs, base.get("upsample_rare", 0), base.get("upsample_max_reads", 1),
                                seed=base.get("seed", 0))
    return tokens


def training_examples(config: SFTConfig, inputs: dict):
    """``train_per_family`` training conversations per family: the ``tinyworld_sft`` artifact's,
    extended from the same generator when more are asked for (the first ones are identical, and
    the split rule keeps every one of them out of validation and test); then ``extra_fact_qa``
    more fact questions from the same generator; then ``redteam_per_pattern`` jailbreak-wrapped
    requests per pattern from the train split (``redteam.training_attacks``: no request of
    notebook 09's attacks)."""
    from minillm.data.build import load_sft, world_from
    from minillm.data.tinyworld.sft import make_sft_examples
    from minillm.evaluate.redteam import training_attacks

    stored = inputs["tinyworld_sft"]
    world = world_from(inputs["tinyworld_world"])
    if config.train_per_family <= stored.config["per_family"]:
        examples = eval_examples(load_sft("train", stored), config.train_per_family)
    else:
        examples = make_sft_examples(world, "train", n_per_family=config.train_per_family,
                                     seed=stored.config["seed"])
    if config.extra_fact_qa:
        more = make_sft_examples(world, "train", seed=stored.config["seed"], families=("fact_qa",),
                                 n_per_family=config.train_per_family + config.extra_fact_qa)
        examples += more[config.train_per_family:]
    if config.redteam_per_pattern:
        examples += training_attacks(world, config.redteam_per_pattern, seed=config.seed)
    return examples


def _first(iterator, n: int):
    for _ in range(n):
        yield next(iterator)


def _build(out_dir, config: SFTConfig, inputs, evaluate_base: bool):
    import pandas as pd
    from safetensors.torch import save_model

    from minillm.data.build import load_sft, world_from
    from minillm.data.tinyworld.judge import GoldJudge
    from minillm.pretrain import load_base_model
    from minillm.tokenizer.stage import load_token_shard

    model, history, encoding = _train(config, inputs, out_dir)
    base = load_base_model(inputs["base_model"])
    val_tokens = load_token_shard("val", inputs["token_shards"])
    T = model.config.context_length
    forgetting = {"pretrain_val_loss_before": pretraining_val_loss(base, val_tokens, T),
                  "pretrain_val_loss_after": pretraining_val_loss(model, val_tokens, T)}

    judge = GoldJudge(world_from(inputs["tinyworld_world"]))
    test = [ex for ex in load_sft("test", inputs["tinyworld_sft"]) if fits(encoding, ex, T)]
    test = eval_examples(test, config.eval_per_family)
    frames = [score(test, answer(model, encoding, test), judge, "sft")]
    if evaluate_base:
        shots = eval_examples(load_sft("train", inputs["tinyworld_sft"]), config.few_shot)
        frames.append(score(test, answer(base, encoding, test, "few_shot", shots), judge,
                            "base (few-shot)"))
    table = pd.concat(frames, ignore_index=True)
    table.to_parquet(out_dir / "eval.parquet", index=False)

    save_model(model, str(out_dir / "model.safetensors"))
    info = {"model": model.config.to_dict(), "tokenizer_key": inputs["tokenizer"].key,
            "n_vocab": encoding.n_vocab, "sft": asdict(config)}
    (out_dir / "config.json").write_text(json.dumps(info, indent=2) + "\n")
    return {**headline(table), **{k: round(v, 4) for k, v in forgetting.items()},
            "forgetting": round(forgetting["pretrain_val_loss_after"]
                                - forgetting["pretrain_val_loss_before"], 4),
            "mix_fraction": config.mix_fraction, "steps": int(history.step.iloc[-1]),
            "train_seconds": round(float(history.train_seconds.iloc[-1]), 1),
            "final_loss": round(float(history.loss.tail(20).mean()), 4)}


def headline(table) -> dict:
    """The numbers the notebook and the report quote, from an evaluation table."""
    out = {}
    for model_name, rows in table.groupby("model"):
        tag = "sft" if model_name == "sft" else "base"
        seen = rows[~rows.heldout.astype(bool)]
        qa = seen[seen.family == "fact_qa"]
        out[f"{tag}_qa_accuracy"] = _mean(qa.correct)
        out[f"{tag}_accuracy"] = _mean(seen[seen.family != "refusal"].correct)
        out[f"{tag}_gold"] = _mean(rows.gold)
        refusal = rows[rows.family == "refusal"]
        harmful = refusal.harmful.astype(bool)
        out[f"{tag}_refusal_harmful"] = _mean(refusal[harmful].refused)
        out[f"{tag}_refusal_benign"] = _mean(refusal[~harmful].refused)
        for family, group in seen[seen.family != "refusal"].groupby("family"):
            out[f"{tag}_{family}"] = _mean(group.correct)
    return out


def _mean(values) -> float:
    values = list(values)
    return round(float(sum(map(float, values)) / len(values)), 4) if values else math.nan


@artifacts.register("sft_model", deps=DEPS, stage="sft", version=6)
def build_sft_model(out_dir, config: SFTConfig, inputs):
    """The base model fine-tuned on TinyWorld conversations, with rehearsal; its evaluation."""
    return _build(out_dir, config, inputs, evaluate_base=True)


@artifacts.register("sft_nomix", deps=DEPS, version=6,
                    config=lambda profile: replace(profiles.stage_config("sft", profile), mix_fraction=0.0))
def build_sft_nomix(out_dir, config: SFTConfig, inputs):
    """The same fine-tuning without rehearsal of pretraining text (to measure forgetting)."""
    return _build(out_dir, config, inputs, evaluate_base=False)


def load_sft_model(artifact: artifacts.Artifact | None = None, device=None) -> GPT:
    """The fine-tuned model of an ``sft_model`` (or ``sft_nomix``) artifact, built on demand."""
    from safetensors.torch import load_model

    from minillm.tokenizer.stage import load_tokenizer

    artifact = artifact if artifact is not None else artifacts.get("sft_model")
    info = json.loads(artifact.file("config.json").read_text())
    model = GPT(GPTConfig.from_dict(info["model"]))
    model.check_vocab(load_tokenizer().n_vocab, what="the course tokenizer")
    load_model(model, str(artifact.file("model.safetensors")), strict=True)
    return (model.to(device) if device is not None else model).eval()


def load_eval_table(artifact: artifacts.Artifact | None = None):
    """One row per (model, test example): response, correct, gold score, refused, ..."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("sft_model")
    return pd.read_parquet(artifact.file("eval.parquet"))
