"""The compress stage: every compression method of the course, applied and measured.

Two artifacts:

* ``distilled_student`` -- a smaller GPT trained to match the base model (the teacher) with the
  distillation loss, and the same student trained from scratch on the same batches (equal
  tokens, same initialisation), with their training histories.
* ``compressed_models`` -- the base model and the SFT model in every format: bf16/fp16 casts,
  round-to-nearest int8 and int4 (per channel and per group), GPTQ int4, magnitude and Wanda
  pruning (50% unstructured and 2:4), plus the two students. Each is saved with
  ``save_compressed`` (real integer codes) and measured in ``results.csv``: bytes in memory and
  on disk, pretraining validation loss, KL divergence from the fp32 model's next-token
  distribution, and the SFT model's task accuracy on held-out TinyWorld prompts.

Calibration (GPTQ, Wanda) uses fixed windows of the pretraining *train* shard; the validation
loss uses fixed windows of the *val* shard, so no method sees the text it is scored on.

    results = load_results()                          # one row per method, builds on demand
    int4 = load_compressed_model("int4_gptq_group")   # a GPT with QuantLinear layers
    sft_int4 = load_compressed_model("int4_gptq_group", sft=True)
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass

import torch

from minillm import artifacts, profiles
from minillm.model import GPT, GPTConfig


@dataclass(frozen=True)
class DistillConfig:
    student_layers: int
    student_heads: int
    student_embd: int
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int = 30
    temperature: float = 1.0    # T = 2 made the 4096-way student worse at this budget: see notebook
    alpha: float = 0.5          # weight of the teacher term; 1 - alpha on the hard labels
    eval_batches: int = 4
    seed: int = 0


@dataclass(frozen=True)
class CompressConfig:
    calib_batches: int            # calibration windows of the train shard: batches of 8 x context
    eval_batches: int             # validation windows: batches of 16 x context
    task_per_family: int          # held-out SFT prompts per task family for the task accuracy
    student_layers: int
    student_heads: int
    student_embd: int
    distill_steps: int
    distill_batch_size: int = 8
    distill_lr: float = 4e-3
    temperature: float = 1.0
    alpha: float = 0.5
    group_size: int = 32          # divides every width of the course models (multiples of 32)
    int4_scheme: str = "asymmetric"
    sparsity: float = 0.5
    task_families: tuple = ("classification", "string")
    seed: int = 0

    def distill(self) -> DistillConfig:
        return DistillConfig(student_layers=self.student_layers, student_heads=self.student_heads,
                             student_embd=self.student_embd, steps=self.distill_steps,
                             batch_size=self.distill_batch_size, lr=self.distill_lr,
                             temperature=self.temperature, alpha=self.alpha, seed=self.seed)


profiles.register_stage(
    "compress",
    configs={
        "smoke": CompressConfig(calib_batches=2, eval_batches=2, task_per_family=3,
                                student_layers=1, student_heads=1, student_embd=32,
                                distill_steps=10),
        "cpu": CompressConfig(calib_batches=16, eval_batches=16, task_per_family=100,
                              student_layers=2, student_heads=2, student_embd=64,
                              distill_steps=300),
        "gpu": CompressConfig(calib_batches=32, eval_batches=32, task_per_family=200,
                              student_layers=4, student_heads=4, student_embd=256,
                              distill_steps=1000, distill_batch_size=32, distill_lr=2e-3),
    },
    minutes={"smoke": 0.5, "cpu": 9, "gpu": 5},
    description="quantization, pruning and distillation of the base and SFT models",
)

# id -> (kind, label); the order is the order of the results table
METHODS = {
    "fp32": ("float", "fp32 (reference)"),
    "bf16": ("float", "bf16"),
    "fp16": ("float", "fp16"),
    "int8": ("quantize", "int8 RTN, per channel"),
    "int4_rtn_channel": ("quantize", "int4 RTN, per channel"),
    "int4_rtn_group": ("quantize", "int4 RTN, per group"),
    "int4_gptq_channel": ("quantize", "int4 GPTQ, per channel"),
    "int4_gptq_group": ("quantize", "int4 GPTQ, per group"),
    "magnitude": ("prune", "magnitude pruning, unstructured"),
    "wanda": ("prune", "Wanda pruning, unstructured"),
    "magnitude_2of4": ("prune", "magnitude pruning, 2:4"),
    "wanda_2of4": ("prune", "Wanda pruning, 2:4"),
    "student_distilled": ("distill", "student, distilled"),
    "student_scratch": ("distill", "student, from scratch"),
}
SAVED_FORMATS = ("int8", "int4_rtn_group", "int4_gptq_group", "wanda", "magnitude")


def calibration_batches(tokens, context_length: int, n_batches: int, batch_size: int = 8) -> list:
    """Token ids (batch_size, context) from windows spread evenly over ``tokens``."""
    from minillm.train import fixed_batches

    return [x for x, _ in fixed_batches(tokens, batch_size, context_length, n_batches)]


def compress(method: str, model: GPT, calibration, config: CompressConfig) -> GPT:
    """``model`` compressed by ``method`` (a key of ``METHODS`` other than the students); the input
    model is not modified."""
    from minillm.compress.gptq import gptq_quantize_model
    from minillm.compress.prune import prune_model
    from minillm.compress.quantize import quantize_model

    g, scheme = config.group_size, config.int4_scheme
    if method == "fp32":
        return copy.deepcopy(model)
    if method in ("bf16", "fp16"):
        return copy.deepcopy(model).to(torch.bfloat16 if method == "bf16" else torch.float16)
    if method == "int8":
        return quantize_model(model, 8)
    if method == "int4_rtn_channel":
        return quantize_model(model, 4, scheme=scheme, granularity="channel")
    if method == "int4_rtn_group":
        return quantize_model(model, 4, scheme=scheme, granularity="group", group_size=g)
    if method == "int4_gptq_channel":
        return gptq_quantize_model(model, calibration, 4, scheme=scheme, granularity="channel")
    if method == "int4_gptq_group":
        return gptq_quantize_model(model, calibration, 4, scheme=scheme, granularity="group",
                                   group_size=g)
    if method in ("magnitude", "wanda"):
        return prune_model(model, method, config.sparsity, batches=calibration)
    if method in ("magnitude_2of4", "wanda_2of4"):
        return prune_model(model, method.split("_")[0], pattern="2:4", batches=calibration)
    known = [m for m, (kind, _) in METHODS.items() if kind != "distill"]
    raise ValueError(f"unknown compression method {method!r}; choose one of {known} (the students "
                     f"come from the distilled_student artifact)")


@torch.no_grad()
def val_loss_and_kl(model, reference, batches) -> tuple[float, float]:
    """Mean validation loss of ``model`` and its mean KL(reference || model) per token."""
    from minillm.compress.measure import mean_kl

    from_model = _float_eval_loss(model, batches)
    return from_model, mean_kl(reference, model, batches)


@torch.no_grad()
def _float_eval_loss(model, batches) -> float:
    import torch.nn.functional as F

    model.eval()
    losses = []
    for x, y in batches:
        logits = model(x)[0].float()
        losses.append(float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))))
    return sum(losses) / len(losses)


def task_examples(inputs: dict, encoding, config: CompressConfig, context_length: int):
    """The first ``task_per_family`` held-out test prompts of each task family that fit."""
    from minillm.data.build import load_sft
    from minillm.sft.stage import eval_examples, fits

    test = [ex for ex in load_sft("test", inputs["tinyworld_sft"])
            if ex.family in config.task_families and fits(encoding, ex, context_length)]
    return eval_examples(test, config.task_per_family)


def task_scores(model, encoding, examples, judge, name: str):
    """One row per example: the SFT stage's scoring of ``model``'s chat replies."""
    from minillm.sft.stage import answer, score

    return score(examples, answer(model, encoding, examples), judge, name)


def train_student(teacher: GPT, config: DistillConfig, train_tokens, val_batches, distill: bool):
    """A fresh student GPT trained for ``config.steps`` on the same batches either way: on the
    distillation loss against ``teacher`` (``distill=True``) or on the labels alone."""
    from minillm.compress.distill import distillation_loss_fn
    from minillm.device import seed_everything
    from minillm.train import TokenLoader, TrainConfig, Trainer, lm_loss, watched_callbacks

    T = teacher.config.context_length
    seed_everything(config.seed)
    student = GPT(GPTConfig.modern(vocab_size=teacher.config.vocab_size, context_length=T,
                                   n_layer=config.student_layers, n_head=config.student_heads,
                                   n_embd=config.student_embd))
    loader = TokenLoader(train_tokens, config.batch_size, T, seed=config.seed, rank=0, world_size=1)
    train_config = TrainConfig(max_steps=config.steps, lr=config.lr, min_lr=config.lr / 10,
                               warmup_steps=min(config.warmup_steps, config.steps // 2),
                               eval_every=max(1, config.steps // 6),
                               log_every=max(1, config.steps // 30), seed=config.seed)
    loss_fn = lm_loss
    if distill:
        distill_loss = distillation_loss_fn(copy.deepcopy(teacher), config.temperature, config.alpha)

        def loss_fn(model, batch):
            # the Trainer evaluates with its loss_fn in eval mode: there, score the plain
            # next-token loss, so both students' val_loss columns measure the same thing
            return distill_loss(model, batch) if model.training else lm_loss(model, batch)
    trainer = Trainer(student, train_config, loader, val_batches=val_batches[:config.eval_batches],
                      loss_fn=loss_fn, callbacks=watched_callbacks())
    trainer.fit()
    return trainer.model.cpu().eval(), trainer


@artifacts.register("distilled_student", deps=("base_model", "token_shards"), version=1,
                    config=lambda profile: profiles.stage_config("compress", profile).distill())
def build_distilled_student(out_dir, config: DistillConfig, inputs):
    """A small student distilled from the base model, and the same student trained from scratch
    on the same tokens."""
    from safetensors.torch import save_model

    from minillm.pretrain import load_base_model
    from minillm.tokenizer.stage import load_token_shard
    from minillm.train import fixed_batches

    teacher = load_base_model(inputs["base_model"])
    T = teacher.config.context_length
    train_tokens = load_token_shard("train", inputs["token_shards"])
    val_batches = fixed_batches(load_token_shard("val", inputs["token_shards"]), 16, T,
                                config.eval_batches)
    meta = {"teacher_params": teacher.num_params()}
    for name, distill in (("distilled", True), ("scratch", False)):
        student, trainer = train_student(teacher, config, train_tokens, val_batches, distill)
        save_model(student, str(out_dir / f"{name}.safetensors"))
        trainer.save_metrics(out_dir / name)
        last = trainer.history[-1]
        meta[f"{name}_val_loss"] = round(float(last["val_loss"]), 4)
        meta[f"{name}_tokens"] = int(last["tokens_seen"])
        meta[f"{name}_seconds"] = round(float(last["train_seconds"]), 1)
    meta["student_params"] = student.num_params()
    (out_dir / "config.json").write_text(json.dumps({"model": student.config.to_dict()}, indent=2))
    return meta


def load_student(name: str = "distilled", artifact: artifacts.Artifact | None = None) -> GPT:
    """The ``"distilled"`` or ``"scratch"`` student of a ``distilled_student`` artifact."""
    from safetensors.torch import load_model

    if name not in ("distilled", "scratch"):
        raise ValueError(f"name must be 'distilled' or 'scratch', got {name!r}")
    artifact = artifact if artifact is not None else artifacts.get("distilled_student")
    info = json.loads(artifact.file("config.json").read_text())
    model = GPT(GPTConfig.from_dict(info["model"]))
    load_model(model, str(artifact.file(f"{name}.safetensors")), strict=True)
    return model.eval()


def student_history(name: str = "distilled", artifact: artifacts.Artifact | None = None):
    """The training history (one row per step) of one student."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("distilled_student")
    return pd.read_csv(artifact.file(f"{name}/metrics.csv"))


DEPS = ("base_model", "sft_model", "distilled_student", "tokenizer", "token_shards",
        "tinyworld_sft", "tinyworld_world")


@artifacts.register("compressed_models", deps=DEPS, stage="compress", version=2)
def build_compressed_models(out_dir, config: CompressConfig, inputs):
    """The base and SFT models in every compressed format, saved, with ``results.csv`` and the
    task-accuracy rows ``tasks.parquet``."""
    import pandas as pd

    from minillm.compress.measure import disk_bytes, memory_bytes, save_compressed
    from minillm.data.build import world_from
    from minillm.data.tinyworld.judge import GoldJudge
    from minillm.pretrain import load_base_model
    from minillm.sft.stage import load_sft_model
    from minillm.tokenizer.stage import load_token_shard, load_tokenizer
    from minillm.train import fixed_batches

    encoding = load_tokenizer(inputs["tokenizer"])
    base = load_base_model(inputs["base_model"])
    sft = load_sft_model(inputs["sft_model"])
    T = base.config.context_length
    calibration = calibration_batches(load_token_shard("train", inputs["token_shards"]), T,
                                      config.calib_batches)
    val = fixed_batches(load_token_shard("val", inputs["token_shards"]), 16, T, config.eval_batches)
    judge = GoldJudge(world_from(inputs["tinyworld_world"]))
    examples = task_examples(inputs, encoding, config, T)

    rows, task_frames = [], []
    for method, (kind, label) in METHODS.items():
        if kind == "distill":
            model = load_student(method.split("_")[1], inputs["distilled_student"])
            sft_model, params = None, model.num_params()   # the students were never fine-tuned
        else:
            model = compress(method, base, calibration, config)
            sft_model, params = compress(method, sft, calibration, config), base.num_params()
        loss, kl = val_loss_and_kl(model, base, val)
        row = {"method": method, "kind": kind, "label": label,
               "params": params, "nonzero_weights": _nonzero_weights(model),
               "memory_MB": memory_bytes(model) / 1e6, "disk_MB": disk_bytes(model) / 1e6,
               "val_loss": loss, "kl_to_fp32": kl, "task_accuracy": math.nan}
        if sft_model is not None:
            scores = task_scores(sft_model, encoding, examples, judge, method)
            task_frames.append(scores)
            row["task_accuracy"] = float(scores.correct.astype(float).mean())
        rows.append(row)
        if method in SAVED_FORMATS:
            save_compressed(model, out_dir / f"base_{method}.safetensors")
            save_compressed(sft_model, out_dir / f"sft_{method}.safetensors")
    table = pd.DataFrame(rows)
    reference = table.set_index("method").loc["fp32"]
    table["memory_ratio"] = table.memory_MB / reference.memory_MB
    table["disk_ratio"] = table.disk_MB / reference.disk_MB
    table["val_loss_increase_pct"] = 100 * (table.val_loss / reference.val_loss - 1)
    table.to_csv(out_dir / "results.csv", index=False)
    pd.concat(task_frames, ignore_index=True).to_parquet(out_dir / "tasks.parquet", index=False)
    (out_dir / "config.json").write_text(json.dumps(
        {"compress": asdict(config), "task_examples": len(examples)}, indent=2) + "\n")
    return headline(table)


def _nonzero_weights(model) -> int:
    """Weights that are not zero, integer codes included (a QuantLinear holds its weight as
    buffers, not parameters)."""
    from minillm.compress.quantize import QuantLinear

    total = sum(int((p != 0).sum()) for p in model.parameters())    # tied weights count once
    for module in model.modules():
        if isinstance(module, QuantLinear):
            total += int((module.dequantized_weight() != 0).sum())
    return total


def headline(table) -> dict:
    """The figures the issue asks for, from a results table."""
    t = table.set_index("method")
    out = {"fp32_val_loss": round(float(t.loc["fp32", "val_loss"]), 4),
           "fp32_task_accuracy": round(float(t.loc["fp32", "task_accuracy"]), 4)}
    for method in ("int8", "int4_rtn_group", "int4_gptq_group", "int4_rtn_channel",
                   "int4_gptq_channel", "magnitude", "wanda"):
        out[f"{method}_val_loss_increase_pct"] = round(float(t.loc[method, "val_loss_increase_pct"]), 3)
        out[f"{method}_kl"] = round(float(t.loc[method, "kl_to_fp32"]), 5)
        out[f"{method}_task_accuracy"] = round(float(t.loc[method, "task_accuracy"]), 4)
    for method in ("int8", "int4_gptq_group"):
        out[f"{method}_memory_ratio"] = round(float(t.loc[method, "memory_ratio"]), 3)
        out[f"{method}_disk_ratio"] = round(float(t.loc[method, "disk_ratio"]), 3)
    for method in ("student_distilled", "student_scratch"):
        out[f"{method}_val_loss"] = round(float(t.loc[method, "val_loss"]), 4)
    return out


def load_results(artifact: artifacts.Artifact | None = None):
    """One row per method: sizes, validation loss, KL to fp32, SFT task accuracy, ratios."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("compressed_models")
    return pd.read_csv(artifact.file("results.csv"))


def load_task_scores(artifact: artifacts.Artifact | None = None):
    """One row per (method, held-out task prompt): the compressed SFT model's scored reply."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("compressed_models")
    return pd.read_parquet(artifact.file("tasks.parquet"))


def load_compressed_model(method: str = "int4_gptq_group", sft: bool = False,
                          artifact: artifacts.Artifact | None = None) -> GPT:
    """A saved compressed model (``SAVED_FORMATS``) of the base model, or of the SFT model."""
    from minillm.compress.measure import load_compressed

    if method not in SAVED_FORMATS:
        raise ValueError(f"method {method!r} is not saved; saved formats are {SAVED_FORMATS} "
                         f"(build the others with compress(method, model, calibration, config))")
    artifact = artifact if artifact is not None else artifacts.get("compressed_models")
    return load_compressed(artifact.file(f"{'sft' if sft else 'base'}_{method}.safetensors")).eval()

