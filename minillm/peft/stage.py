"""The peft stage: adapt the frozen base model to small TinyWorld tasks -> ``adapters``.

For every task of the profile (``minillm.peft.tasks``) the builder measures, on the same held-out
test questions and the same exact-match scoring:

- hand-written prompts: zero-shot and few-shot (as many solved examples as fit in the context);
- prompt tuning with several lengths and initialisations (``SoftPrompt``);
- prefix tuning (``PrefixTuning``), LoRA at several ranks (``LoRA`` on the attention queries and
  values), and full fine-tuning of every weight, the ceiling the cheap methods are held against.

Every trained method gets the same batches and number of steps (its own learning rate), and the
table records accuracy, trainable parameters, the bytes of the saved adapter, training seconds
and the training state it needs in memory (weights, gradients and AdamW moments, counted from
the tensors; on CUDA also the measured peak). Adapters are saved with ``save_adapter``, so a
later notebook can load them onto the base model (``load_task_adapter``).

    results = load_results()                         # one row per (task, method)
    soft = load_task_adapter("kind", "soft_text_20", base)
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass

from minillm import artifacts, profiles


@dataclass(frozen=True)
class PEFTConfig:
    tasks: tuple[str, ...]
    train_per_task: int
    test_per_task: int
    steps: int
    batch_size: int
    prompt_lengths: tuple[int, ...] = (1, 5, 20)   # soft prompts initialised from the description
    prompt_inits: tuple[str, ...] = ("vocab", "random")   # more inits at the longest length
    sweep_tasks: tuple[str, ...] = ("kind",)   # the others get only the longest text-init prompt
    prefix_length: int = 10
    lora_ranks: tuple[int, ...] = (1, 4, 16)
    few_shot: int = 3             # solved examples in the hand-written prompt (fewer if too long)
    lr_prompt: float = 0.3        # learned inputs need a large step (Lester et al. used 0.3)
    lr_prefix: float = 1e-2
    lr_lora: float = 5e-3
    lr_full: float = 1e-3
    warmup_steps: int = 10
    seed: int = 0


profiles.register_stage(
    "peft",
    configs={
        "smoke": PEFTConfig(tasks=("kind", "mood"), train_per_task=48, test_per_task=12, steps=6,
                            batch_size=8, prompt_lengths=(1, 5), prompt_inits=("vocab",),
                            prefix_length=4, lora_ranks=(1, 4), few_shot=2),
        "cpu": PEFTConfig(tasks=("kind", "mood"), train_per_task=600, test_per_task=150, steps=150,
                          batch_size=16),
        "gpu": PEFTConfig(tasks=("kind", "mood", "place"), train_per_task=2000, test_per_task=300,
                          steps=600, batch_size=32, lora_ranks=(1, 4, 16, 64),
                          sweep_tasks=("kind", "mood", "place")),
    },
    minutes={"smoke": 1, "cpu": 9, "gpu": 6},
    description="prompt tuning, prefix tuning, LoRA and full fine-tuning of the base model",
)

DEPS = ("base_model", "tokenizer", "tinyworld_world", "tinyworld_sft")


@dataclass(frozen=True)
class Run:
    """One trained method on one task: ``kind`` is soft_prompt, prefix, lora or full."""
    name: str
    kind: str
    size: int = 0                 # prompt length, prefix length or LoRA rank
    init: str = ""


def runs_for(config: PEFTConfig, task: str) -> list[Run]:
    """Every method of the sweep for ``task``, cheapest first (all prompt lengths and inits only
    on ``config.sweep_tasks``)."""
    longest = max(config.prompt_lengths)
    runs = [Run(f"soft_text_{n}", "soft_prompt", n, "text") for n in config.prompt_lengths
            if task in config.sweep_tasks or n == longest]
    if task in config.sweep_tasks:
        runs += [Run(f"soft_{init}_{longest}", "soft_prompt", longest, init)
                 for init in config.prompt_inits]
    runs.append(Run(f"prefix_{config.prefix_length}", "prefix", config.prefix_length))
    runs += [Run(f"lora_r{r}", "lora", r) for r in config.lora_ranks]
    runs.append(Run("full", "full"))
    return runs


def task_data(world, encoding, config: PEFTConfig, task: str, seed: int, context_length: int):
    """{"train": [...], "test": [...]}: the task's examples that fit next to the longest soft
    prompt or prefix of the sweep."""
    from minillm.peft.tasks import fitting, task_examples

    reserve = max(max(config.prompt_lengths), config.prefix_length)
    n = {"train": config.train_per_task, "test": config.test_per_task}
    return {split: fitting(encoding, task_examples(world, split, task, n[split], seed),
                           context_length, reserve) for split in ("train", "test")}


def make_adapter(run: Run, model, encoding, task: str, seed: int = 0):
    """The untrained adapter of ``run`` for ``model`` (LoRA is injected into ``model``)."""
    from minillm.peft import (
        LoRA,
        LoRAConfig,
        PrefixConfig,
        PrefixTuning,
        SoftPrompt,
        SoftPromptConfig,
    )
    from minillm.peft.tasks import DESCRIPTIONS

    if run.kind == "soft_prompt":
        ids = encoding.encode_ordinary(DESCRIPTIONS[task])[:run.size] if run.init == "text" else None
        return SoftPrompt(model, SoftPromptConfig(n_tokens=run.size, init=run.init, init_ids=ids,
                                                  seed=seed))
    if run.kind == "prefix":
        ids = encoding.encode_ordinary(DESCRIPTIONS[task])[:run.size]
        return PrefixTuning(model, PrefixConfig(n_prefix=run.size, init="text", init_ids=ids,
                                                seed=seed))
    if run.kind == "lora":
        return LoRA(model, LoRAConfig(r=run.size, alpha=2.0 * run.size, seed=seed), name=task)
    raise ValueError(f"run kind {run.kind!r} has no adapter (full fine-tuning trains the model)")


def train_run(run: Run, base, encoding, task: str, train_examples, config: PEFTConfig,
              callbacks=()) -> dict:
    """Train ``run`` on a copy of ``base``; returns the trained pieces and what it cost:
    {"model", "adapter", "history", "seconds", "trainable", "stored", "state_bytes", "peak_bytes"}
    (``trainable`` counts what the optimizer updates, the prefix's MLP included; ``stored`` what
    is saved and served)."""
    import torch

    from minillm.peft import PrefixModel, SoftPromptModel, mark_only_adapters_trainable
    from minillm.peft.tasks import TaskBatches, encode_task
    from minillm.train import TrainConfig, Trainer

    model = copy.deepcopy(base).train()
    adapter, wrapper = None, model
    if run.kind == "full":
        model.requires_grad_(True)
    else:
        adapter = make_adapter(run, model, encoding, task, config.seed)
        if run.kind == "soft_prompt":
            wrapper = SoftPromptModel(model, adapter)
        elif run.kind == "prefix":
            wrapper = PrefixModel(model, adapter)
        else:
            mark_only_adapters_trainable(model)
    lr = {"soft_prompt": config.lr_prompt, "prefix": config.lr_prefix, "lora": config.lr_lora,
          "full": config.lr_full}[run.kind]
    reserve = run.size if run.kind in ("soft_prompt", "prefix") else 0
    items = encode_task(encoding, train_examples, model.config.context_length, reserve=reserve)
    batches = TaskBatches(items, config.batch_size, pad_id=encoding.eot_token, seed=config.seed)
    train_config = TrainConfig(max_steps=config.steps, lr=lr, min_lr=lr / 10,
                               warmup_steps=min(config.warmup_steps, config.steps // 4),
                               weight_decay=0.0, eval_every=0,
                               log_every=max(1, config.steps // 20), seed=config.seed)
    torch.manual_seed(config.seed)
    trainer = Trainer(wrapper, train_config, batches, callbacks=list(callbacks), progress=False)
    cuda = trainer.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(trainer.device)
    history = trainer.fit()
    peak = torch.cuda.max_memory_allocated(trainer.device) if cuda else None
    trainable = [p for p in wrapper.parameters() if p.requires_grad]
    optimizer_bytes = sum(t.numel() * t.element_size() for state in trainer.optimizer.state.values()
                          for t in state.values() if torch.is_tensor(t) and t.dim() > 0)
    weight_bytes = sum(p.numel() * p.element_size() for p in wrapper.parameters())
    grad_bytes = sum(p.numel() * p.element_size() for p in trainable)
    if run.kind == "prefix":
        adapter.fold()                               # what is saved and served: plain tensors
    wrapper.requires_grad_(False)
    stored = adapter.num_parameters() if adapter is not None \
        else sum(p.numel() for p in model.parameters())
    return {"model": model.eval(), "adapter": adapter, "history": history,
            "seconds": trainer.train_seconds, "trainable": sum(p.numel() for p in trainable),
            "stored": stored, "state_bytes": weight_bytes + grad_bytes + optimizer_bytes,
            "peak_bytes": peak}


def evaluate_run(run: Run, trained: dict, encoding, examples) -> list[str]:
    """Greedy replies of a trained run to the test questions."""
    from minillm.peft.tasks import query, task_replies

    prompts = [query(e) for e in examples]
    adapter, model = trained["adapter"], trained["model"]
    if run.kind == "soft_prompt":
        return task_replies(model, encoding, prompts, soft_prompts=adapter)
    if run.kind == "prefix":
        return task_replies(model, encoding, prompts, prefixes=adapter)
    return task_replies(model, encoding, prompts)     # LoRA is active in the model; full: weights


def hand_written(base, encoding, train_examples, test_examples, few_shot: int) -> dict:
    """Replies of the frozen base model to zero-shot and few-shot prompts:
    {"zero-shot": (replies, 0), "few-shot": (replies, mean number of shots that fit)}."""
    from minillm.peft.tasks import few_shot_text, fitting_shots, task_replies

    T = base.config.context_length
    shots = [fitting_shots(encoding, e, train_examples, few_shot, T, room=8) for e in test_examples]
    few = [few_shot_text(e, s) for e, s in zip(test_examples, shots, strict=True)]
    mean_shots = sum(map(len, shots)) / max(len(shots), 1)
    zero = [few_shot_text(e, []) for e in test_examples]
    return {"zero-shot": (task_replies(base, encoding, zero), 0),
            "few-shot": (task_replies(base, encoding, few), round(mean_shots, 2))}


def _save(run: Run, trained: dict, folder, base) -> int:
    """Write the run's adapter (or, for full fine-tuning, the whole model); return its bytes."""
    from safetensors.torch import save_model

    from minillm.peft import adapter_file_size, save_adapter

    if run.kind == "full":
        folder.mkdir(parents=True, exist_ok=True)
        save_model(trained["model"], str(folder / "model.safetensors"))
        return (folder / "model.safetensors").stat().st_size
    save_adapter(trained["adapter"], folder, base)
    return adapter_file_size(folder)


@artifacts.register("adapters", deps=DEPS, stage="peft", version=2)
def build_adapters(out_dir, config: PEFTConfig, inputs):
    """Soft prompts, prefixes, LoRA adapters and fully fine-tuned models for small tasks, and
    the table that compares them (with hand-written prompts) on held-out questions."""
    import pandas as pd

    from minillm.data.build import world_from
    from minillm.device import seed_everything
    from minillm.peft.tasks import is_correct
    from minillm.pretrain import load_base_model
    from minillm.tokenizer.stage import load_tokenizer
    from minillm.train import watched_callbacks

    encoding = load_tokenizer(inputs["tokenizer"])
    base = load_base_model(inputs["base_model"])
    world = world_from(inputs["tinyworld_world"])
    seed = inputs["tinyworld_sft"].config["seed"]
    total = sum(p.numel() for p in base.parameters())
    rows, replies, histories = [], [], []
    started = time.perf_counter()
    for task in config.tasks:
        split = task_data(world, encoding, config, task, seed, base.config.context_length)
        train, test = split["train"], split["test"]
        outputs = hand_written(base, encoding, train, test, config.few_shot)
        for name, (said, n_shots) in outputs.items():
            # size: the mean number of solved examples that fit in front of the question
            rows.append({"task": task, "method": name, "kind": "hand-written", "size": n_shots,
                         "init": "",
                         "accuracy": _accuracy(said, test), "trainable": 0, "stored": 0,
                         "file_bytes": 0,
                         "train_seconds": 0.0, "state_mb": 0.0, "peak_mb": None})
            replies += [{"task": task, "method": name, "id": e.id, "question": e.question,
                         "answer": e.answer, "reply": r, "correct": is_correct(r, e)}
                        for e, r in zip(test, said, strict=True)]
        for run in runs_for(config, task):
            seed_everything(config.seed)
            trained = train_run(run, base, encoding, task, train, config, watched_callbacks())
            said = evaluate_run(run, trained, encoding, test)
            size = _save(run, trained, out_dir / task / run.name, base)
            peak = trained["peak_bytes"]
            rows.append({"task": task, "method": run.name, "kind": run.kind, "size": run.size,
                         "init": run.init, "accuracy": _accuracy(said, test),
                         "trainable": trained["trainable"], "stored": trained["stored"],
                         "file_bytes": size,
                         "train_seconds": round(trained["seconds"], 2),
                         "state_mb": round(trained["state_bytes"] / 2**20, 3),
                         "peak_mb": round(peak / 2**20, 2) if peak is not None else None})
            replies += [{"task": task, "method": run.name, "id": e.id, "question": e.question,
                         "answer": e.answer, "reply": r, "correct": is_correct(r, e)}
                        for e, r in zip(test, said, strict=True)]
            histories.append(trained["history"][["step", "loss"]].assign(task=task,
                                                                         method=run.name))
    table = pd.DataFrame(rows).assign(trainable_pct=lambda d: 100 * d.trainable / total)
    table.to_csv(out_dir / "results.csv", index=False)
    pd.DataFrame(replies).to_parquet(out_dir / "replies.parquet", index=False)
    pd.concat(histories, ignore_index=True).to_csv(out_dir / "histories.csv", index=False)
    (out_dir / "config.json").write_text(json.dumps({"tokenizer_key": inputs["tokenizer"].key,
                                                      "base_key": inputs["base_model"].key,
                                                      "base_parameters": total}, indent=2) + "\n")
    return {**headline(table), "base_parameters": total,
            "build_seconds": round(time.perf_counter() - started, 1)}


def _accuracy(said, examples) -> float:
    from minillm.peft.tasks import accuracy

    return round(accuracy(said, examples), 4)


def headline(table) -> dict:
    """Per task: best hand-written prompt, best soft prompt, LoRA vs full fine-tuning."""
    out = {}
    for task, rows in table.groupby("task", sort=False):
        acc = rows.set_index("method").accuracy
        hand = rows[rows.kind == "hand-written"].accuracy.max()
        soft = rows[rows.kind == "soft_prompt"].accuracy.max()
        full = float(acc.get("full", float("nan")))
        out[f"{task}_best_hand_written"] = round(float(hand), 4)
        out[f"{task}_best_soft_prompt"] = round(float(soft), 4)
        out[f"{task}_soft_minus_hand"] = round(float(soft - hand), 4)
        out[f"{task}_full"] = round(full, 4)
        lora = rows[rows.kind == "lora"]
        full_trainable = float(rows[rows.kind == "full"].trainable.max())
        small = lora[lora.trainable <= 0.02 * full_trainable]
        if len(small):
            best = small.loc[small.accuracy.idxmax()]
            out[f"{task}_lora_best_small"] = str(best.method)
            out[f"{task}_lora_over_full"] = round(float(best.accuracy) / full, 4) if full else None
            out[f"{task}_lora_param_share"] = round(float(best.trainable) / full_trainable, 5)
    return out


def load_results(artifact: artifacts.Artifact | None = None):
    """One row per (task, method): accuracy, trainable, file_bytes, train_seconds, state_mb, ..."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("adapters")
    return pd.read_csv(artifact.file("results.csv"))


def load_replies(artifact: artifacts.Artifact | None = None):
    """One row per (task, method, test question): the reply and whether it is correct."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("adapters")
    return pd.read_parquet(artifact.file("replies.parquet"))


def load_task_adapter(task: str, method: str, model, artifact: artifacts.Artifact | None = None):
    """The trained adapter ``method`` of ``task`` loaded onto ``model`` (the base model); a LoRA
    one is injected into ``model`` under the task's name. Full fine-tuning returns a new GPT."""
    from safetensors.torch import load_model

    from minillm.peft import load_adapter

    artifact = artifact if artifact is not None else artifacts.get("adapters")
    folder = artifact.path / task / method
    if not folder.is_dir():
        known = sorted(f"{p.parent.name}/{p.name}" for p in artifact.path.glob("*/*") if p.is_dir())
        raise ValueError(f"no trained adapter {task}/{method} in {artifact.path}; known: {known}")
    if method == "full":
        tuned = copy.deepcopy(model)
        load_model(tuned, str(folder / "model.safetensors"), strict=True)
        return tuned.eval()
    return load_adapter(folder, model, name=task)
