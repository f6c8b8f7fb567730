"""The pretrain stage: a small GPT trained on the TinyWorld token shards -> ``base_model``.

Per-profile configs (``profiles.stage_config("pretrain")``) size the model and the run to the
budget: a tiny model for a few dozen steps in ``smoke``, a ~1.3M-parameter modern GPT for a few
minutes in ``cpu``, a bigger one with bf16/fp16 and torch.compile in ``gpu``.

The artifact ``base_model`` holds ``model.safetensors``, ``config.json`` (model + tokenizer
info), ``metrics.csv``/``metrics.jsonl`` (one row per step), ``samples.jsonl`` (greedy
completions at several steps), ``cloze_curve.csv`` (cloze accuracy at every evaluation) and, in
its metadata, the headline numbers: validation loss, bits per byte, cloze accuracy on training vs
held-out facts, tokens/s.

The run reads a data mix rather than the shard as it is: documents that state rarely named facts
(``upsample_rare``) go in up to ``upsample_max_reads`` times, so the same number of steps spends
more tokens where knowledge is scarce (``rare_fact_reads``, ``repeat_documents``).

Cloze accuracy asks the model to pick the true ending of a fact among ``n_choices`` values of the
same relation ("The capital of Velora is" -> " Brenno" vs three other cities), by the summed
log-probability of each ending. Training facts were in the text; held-out facts are about entities
the training text never names, so accuracy there is near chance: memorisation, not reasoning.

    base = artifacts.get("base_model")
    model = load_base_model(base)                       # GPT, vocabulary checked
    with watching(my_callback):                         # e.g. a notebook's live loss plot
        artifacts.get("base_model", rebuild=True)
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from minillm import artifacts, profiles
from minillm.data.tinyworld.world import Fact, World, cloze
from minillm.model import GPT, GPTConfig
from minillm.train import Callback, watched_callbacks
from minillm.train import watching as _train_watching


@dataclass(frozen=True)
class PretrainConfig:
    n_layer: int
    n_head: int
    n_embd: int
    context_length: int
    batch_size: int
    max_steps: int
    lr: float
    warmup_steps: int
    eval_every: int
    eval_batches: int
    sample_every: int
    preset: str = "modern"
    n_kv_head: int | None = None
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    grad_accum: int = 1
    compile: bool = False
    cloze_facts: int = 300           # facts scored per group (train / held-out)
    cloze_curve_facts: int = 150     # facts per group scored at every evaluation during training
    upsample_rare: int = 0           # data mix (0: off): documents naming facts that at most this
    upsample_max_reads: int = 4      # many documents name are read up to this many times per pass
    seed: int = 0


profiles.register_stage(
    "pretrain",
    configs={
        "smoke": PretrainConfig(n_layer=2, n_head=2, n_embd=64, context_length=128, batch_size=8,
                                max_steps=60, lr=3e-3, warmup_steps=10, eval_every=30,
                                eval_batches=4, sample_every=30, cloze_facts=60, upsample_rare=20),
        "cpu": PretrainConfig(n_layer=4, n_head=4, n_embd=128, context_length=128, batch_size=8,
                              max_steps=6000, lr=4e-3, warmup_steps=50, eval_every=500,
                              eval_batches=16, sample_every=1000, upsample_rare=20),
        "gpu": PretrainConfig(n_layer=8, n_head=8, n_embd=512, context_length=256, batch_size=32,
                              max_steps=2000, lr=1.5e-3, warmup_steps=100, eval_every=250,
                              eval_batches=32, sample_every=500, n_kv_head=4, compile=True,
                              upsample_rare=20),
    },
    minutes={"smoke": 0.5, "cpu": 10, "gpu": 8},
    description="a GPT pretrained on the TinyWorld token shards",
)

SAMPLE_PROMPTS = ("The capital of", "Once upon a time,", "The river", "Q: What is the climate of")


def model_config(config: PretrainConfig, vocab_size: int) -> GPTConfig:
    preset = {"modern": GPTConfig.modern, "gpt2": GPTConfig.gpt2}
    if config.preset not in preset:
        raise ValueError(f"preset must be one of {sorted(preset)}, got {config.preset!r}")
    return preset[config.preset](vocab_size=vocab_size, context_length=config.context_length,
                                 n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd,
                                 n_kv_head=config.n_kv_head)


def train_config(config: PretrainConfig):
    from minillm.train import TrainConfig

    return TrainConfig(max_steps=config.max_steps, lr=config.lr, min_lr=config.lr * config.min_lr_ratio,
                       warmup_steps=config.warmup_steps, weight_decay=config.weight_decay,
                       grad_accum=config.grad_accum, eval_every=config.eval_every,
                       log_every=max(1, config.max_steps // 40), compile=config.compile,
                       seed=config.seed)


# --- cloze accuracy --------------------------------------------------------------------------

def cloze_options(fact: Fact, world: World, n_choices: int = 4, seed: int = 0) -> list[str]:
    """The true value and ``n_choices - 1`` other values of the same relation, in a fixed
    shuffled order (seeded by the fact, so every model gets the same question)."""
    values = sorted({f.value for f in world.facts() if f.relation == fact.relation} - {fact.value})
    rng = random.Random(f"cloze-{seed}-{fact.subject}-{fact.relation}")
    options = rng.sample(values, min(n_choices - 1, len(values))) + [fact.value]
    rng.shuffle(options)
    return options


def sample_facts(facts: list[Fact], n: int, seed: int = 0) -> list[Fact]:
    if n >= len(facts):
        return list(facts)
    return random.Random(f"cloze-facts-{seed}").sample(facts, n)


def cloze_accuracy(model, encoding, world: World, facts: list[Fact], n_choices: int = 4,
                   seed: int = 0) -> dict:
    """Share of ``facts`` whose true ending scores highest among ``n_choices`` options, and the
    chance level (mean of 1/options). ``rows`` keeps each question for inspection."""
    import torch

    from minillm.generate import continuation_logprobs

    if not facts:
        raise ValueError("no facts to score")
    rows = []
    for fact in facts:
        prefix, answer = cloze(fact)
        options = cloze_options(fact, world, n_choices, seed)
        prefix_ids = [encoding.eot_token] + encoding.encode_ordinary(prefix)
        with torch.no_grad():
            scores = continuation_logprobs(model, prefix_ids,
                                           [encoding.encode_ordinary(" " + o) for o in options])
        best = options[int(scores.argmax())]
        rows.append({"prompt": prefix, "answer": answer.strip(), "predicted": best,
                     "correct": best == fact.value, "n_options": len(options)})
    accuracy = sum(r["correct"] for r in rows) / len(rows)
    chance = sum(1 / r["n_options"] for r in rows) / len(rows)
    return {"accuracy": accuracy, "chance": chance, "n": len(rows), "rows": rows}


def quiz_facts(world: World, n_facts: int, seed: int = 0) -> dict[str, list[Fact]]:
    """The facts a cloze quiz asks: ``n_facts`` stated in training text and ``n_facts`` held out."""
    return {"train": sample_facts(world.split_facts("train"), n_facts, seed),
            "heldout": sample_facts(world.heldout_facts(), n_facts, seed)}


def memorisation_report(model, encoding, world: World, n_facts: int = 300, n_choices: int = 4,
                        seed: int = 0) -> dict:
    """Cloze accuracy on facts stated in training text vs held-out facts, with chance."""
    return {group: cloze_accuracy(model, encoding, world, facts, n_choices, seed)
            for group, facts in quiz_facts(world, n_facts, seed).items()}


def fact_documents(facts: list[Fact], documents: list[str]) -> list[list[int]]:
    """For each fact, the indices of the ``documents`` that name both its subject and its value
    (whole words, any case). ``fact_mentions`` counts them."""
    def words(text: str) -> list[str]:
        return re.findall(r"[0-9a-z]+", text.lower())

    def phrase(text: str):
        return re.compile(r"(?<![0-9a-z])" + r"\W+".join(map(re.escape, words(text))) + r"(?![0-9a-z])")

    lowered = [doc.lower() for doc in documents]
    vocab = [set(words(doc)) for doc in lowered]
    found = []
    for fact in facts:
        subject_words, value_words = words(fact.subject), words(fact.value)
        if not subject_words or not value_words:
            raise ValueError(f"fact {fact} has a subject or value with no words to look for")
        needed = set(subject_words) | set(value_words)      # a cheap set test before the regexes
        subject, value = phrase(fact.subject), phrase(fact.value)
        found.append([i for i, (doc, seen) in enumerate(zip(lowered, vocab, strict=True))
                      if needed <= seen and subject.search(doc) and value.search(doc)])
    return found


def fact_mentions(facts: list[Fact], documents: list[str]) -> list[int]:
    """For each fact, the number of ``documents`` that name both its subject and its value (whole
    words, any case): the co-occurrence count Kandpal et al. (2023) relate to what a model knows.

    A rough count of exposures: a document can name a person and a common value ("gold", "12")
    without stating the fact, and a fact stated twice in one document counts once."""
    return [len(found) for found in fact_documents(facts, documents)]


# --- data mixing: read the documents that state rare facts more often -------------------------

def rare_fact_reads(facts: list[Fact], documents: list[str], rare_at_most: int,
                    max_reads: int, found: list[list[int]] | None = None) -> list[int]:
    """How many times to put each document in the training mix so rarely stated facts are read
    more often: a document that names ``k`` facts named by at most ``rare_at_most`` documents is
    read ``min(1 + k, max_reads)`` times; every other document once.

    The same idea as upweighting Wikipedia in a web mix (The Pile reads it three times): spend
    more of a fixed token budget where the knowledge is scarce. ``found`` reuses an earlier
    ``fact_documents(facts, documents)``."""
    if rare_at_most < 0 or max_reads < 1:
        raise ValueError(f"need rare_at_most >= 0 and max_reads >= 1, got {rare_at_most}, {max_reads}")
    rare_per_doc = [0] * len(documents)
    for ids in found if found is not None else fact_documents(facts, documents):
        if len(ids) <= rare_at_most:
            for i in ids:
                rare_per_doc[i] += 1
    return [min(1 + k, max_reads) for k in rare_per_doc]


def repeat_documents(tokens, eot: int, reads: list[int], seed: int = 0):
    """A new flat token array holding document ``i`` of ``tokens`` (each ending in ``eot``)
    ``reads[i]`` times, all copies in a seeded random order."""
    import numpy as np

    from minillm.tokenizer.shards import split_documents

    docs = split_documents(tokens, eot)
    if len(reads) != len(docs):
        raise ValueError(f"reads has {len(reads)} entries but the tokens hold {len(docs)} documents")
    if any(r < 0 for r in reads):
        raise ValueError("reads must be >= 0 (0 drops a document)")
    copies = np.repeat(np.arange(len(docs)), reads)
    order = np.random.default_rng(seed).permutation(copies)
    end = np.array([eot], dtype=np.asarray(tokens).dtype)
    pieces = [piece for i in order for piece in (docs[i], end)]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=end.dtype)


def upsample_rare_facts(tokens, encoding, world: World, rare_at_most: int, max_reads: int,
                        seed: int = 0):
    """The training tokens re-mixed by ``rare_fact_reads`` over the world's training facts;
    returns ``(tokens, reads)``."""
    from minillm.tokenizer.shards import split_documents

    documents = [encoding.decode(doc.tolist()) for doc in split_documents(tokens, encoding.eot_token)]
    reads = rare_fact_reads(world.split_facts("train"), documents, rare_at_most, max_reads)
    return repeat_documents(tokens, encoding.eot_token, reads, seed), reads


def pretraining_mix(inputs: dict, upsample_rare: int = 0, max_reads: int = 1, seed: int = 0):
    """The tokens a base model reads: the train shard of ``inputs["token_shards"]``, re-mixed by
    ``upsample_rare_facts`` when ``upsample_rare`` > 0. Returns ``(tokens, mix)``; ``mix`` holds
    the sizes the artifact metadata reports. SFT rehearses from the same mix
    (``minillm.sft.stage.rehearsal_tokens``)."""
    from minillm.data.build import world_from
    from minillm.tokenizer.stage import load_token_shard, load_tokenizer

    tokens = load_token_shard("train", inputs["token_shards"])
    if not upsample_rare:
        return tokens, {"train_tokens": len(tokens)}
    encoding = load_tokenizer(inputs["tokenizer"])
    world = world_from(inputs["tinyworld_world"])
    tokens, reads = upsample_rare_facts(tokens, encoding, world, upsample_rare, max_reads, seed=seed)
    return tokens, {"train_tokens": len(tokens), "documents_upsampled": sum(r > 1 for r in reads),
                    "extra_reads": sum(reads) - len(reads)}


class ClozeCurve(Callback):
    """At every evaluation, cloze accuracy on fixed samples of training and held-out facts, so a
    run shows memorisation growing with the tokens read (``rows``: step, tokens_seen, accuracies)."""

    def __init__(self, encoding, world: World, n_facts: int = 150, seed: int = 0):
        self.encoding, self.world, self.seed = encoding, world, seed
        self.facts = quiz_facts(world, n_facts, seed)
        self.rows: list[dict] = []

    def on_eval(self, trainer, row: dict) -> None:
        scores = {f"cloze_{group}": cloze_accuracy(trainer.model, self.encoding, self.world, facts,
                                                   seed=self.seed)["accuracy"]
                  for group, facts in self.facts.items()}
        self.rows.append({"step": trainer.step, "tokens_seen": trainer.tokens_seen, **scores})


# --- the artifact ----------------------------------------------------------------------------

# builds of base_model run inside ``with watching(callback):`` report to that callback
watching = _train_watching


@artifacts.register("base_model", deps=("token_shards", "tokenizer", "tinyworld_world"),
                    stage="pretrain", version=2)
def build_base_model(out_dir, config: PretrainConfig, inputs):
    """A GPT pretrained on the token shards: weights, config, metrics, samples."""
    import pandas as pd
    from safetensors.torch import save_model

    from minillm.data.build import world_from
    from minillm.device import seed_everything
    from minillm.tokenizer.stage import load_token_shard, load_tokenizer, token_shards_meta
    from minillm.train import SampleCallback, TokenLoader, Trainer, fixed_batches

    encoding = load_tokenizer(inputs["tokenizer"])
    meta = token_shards_meta(inputs["token_shards"])
    if meta["n_vocab"] != encoding.n_vocab:
        raise ValueError(f"token_shards were made with {meta['n_vocab']} ids but the tokenizer has "
                         f"{encoding.n_vocab}: rebuild token_shards")
    train_tokens, mix = pretraining_mix(inputs, config.upsample_rare, config.upsample_max_reads,
                                        seed=config.seed)
    val_tokens = load_token_shard("val", inputs["token_shards"])
    val = meta["splits"]["val"]
    bytes_per_token = val["bytes_of_text"] / val["n_tokens"]
    world = world_from(inputs["tinyworld_world"])

    seed_everything(config.seed)
    model = GPT(model_config(config, encoding.n_vocab))
    model.check_vocab(encoding.n_vocab)
    loader = TokenLoader(train_tokens, config.batch_size, config.context_length, seed=config.seed,
                         rank=0, world_size=1)
    val_batches = fixed_batches(val_tokens, config.batch_size, config.context_length, config.eval_batches)
    samples = SampleCallback(encoding, SAMPLE_PROMPTS, every=config.sample_every, max_new_tokens=30,
                             printer=print)
    curve = ClozeCurve(encoding, world, config.cloze_curve_facts, seed=config.seed)
    trainer = Trainer(model, train_config(config), loader, val_batches=val_batches,
                      callbacks=[samples, curve, *watched_callbacks()], bytes_per_token=bytes_per_token)
    history = trainer.fit()

    model = trainer.model.cpu().eval()
    memo = memorisation_report(model, encoding, world, config.cloze_facts, seed=config.seed)
    save_model(model, str(out_dir / "model.safetensors"))
    info = {"model": model.config.to_dict(), "tokenizer_key": inputs["tokenizer"].key,
            "n_vocab": encoding.n_vocab, "eot_token": encoding.eot_token}
    (out_dir / "config.json").write_text(json.dumps(info, indent=2) + "\n")
    trainer.save_metrics(out_dir)
    pd.DataFrame(curve.rows).to_csv(out_dir / "cloze_curve.csv", index=False)
    pd.DataFrame(memo["train"]["rows"] + memo["heldout"]["rows"]).assign(
        group=["train"] * memo["train"]["n"] + ["heldout"] * memo["heldout"]["n"]
    ).to_csv(out_dir / "cloze.csv", index=False)
    with open(out_dir / "samples.jsonl", "w") as f:
        for row in trainer.samples:
            f.write(json.dumps(row) + "\n")
    last = history.dropna(subset=["val_loss"]).iloc[-1]
    skip = min(len(history) - 1, 5)                           # warm-up steps are slow: skip them
    timed, warm = history.iloc[skip:], (history.train_seconds.iloc[skip - 1] if skip else 0.0)
    return {"params": model.num_params(), "non_embedding_params": model.num_params(embedding=False),
            "steps": int(history.step.iloc[-1]), "tokens_seen": int(history.tokens_seen.iloc[-1]),
            "val_loss": round(float(last.val_loss), 4), "val_bpb": round(float(last.val_bpb), 4),
            "train_loss": round(float(history.loss.tail(20).mean()), 4),
            "tokens_per_s": round(float(timed.tokens.sum() / (history.train_seconds.iloc[-1] - warm)), 1),
            "train_seconds": round(float(history.train_seconds.iloc[-1]), 1),
            "device": str(trainer.device), "precision": trainer.precision.name,
            "cloze_train": round(memo["train"]["accuracy"], 4),
            "cloze_heldout": round(memo["heldout"]["accuracy"], 4),
            "cloze_chance": round(memo["train"]["chance"], 4), "cloze_facts": memo["train"]["n"],
            **mix}


def load_base_model(artifact: artifacts.Artifact | None = None, device=None) -> GPT:
    """The pretrained model of a ``base_model`` artifact (built on demand), checked against the
    tokenizer it was trained with."""
    from safetensors.torch import load_model

    from minillm.tokenizer.stage import load_tokenizer

    artifact = artifact if artifact is not None else artifacts.get("base_model")
    info = json.loads(artifact.file("config.json").read_text())
    model = GPT(GPTConfig.from_dict(info["model"]))
    model.check_vocab(load_tokenizer().n_vocab, what="the course tokenizer")
    load_model(model, str(artifact.file("model.safetensors")), strict=True)
    if device is not None:
        model.to(device)
    return model.eval()


def load_cloze_curve(artifact: artifacts.Artifact | None = None):
    """Cloze accuracy on training and held-out facts at each evaluation of the run (one row per
    evaluation: step, tokens_seen, cloze_train, cloze_heldout)."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("base_model")
    return pd.read_csv(artifact.file("cloze_curve.csv"))


def load_samples(artifact: artifacts.Artifact | None = None):
    """The samples recorded during training, one row per (step, prompt)."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("base_model")
    lines = artifact.file("samples.jsonl").read_text().splitlines()
    return pd.DataFrame([json.loads(line) for line in lines])
