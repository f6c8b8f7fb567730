"""A scaling sweep: many small GPTs, each trained on a token budget, every run cached on disk.

The grid is IsoFLOP-shaped: for each compute budget C, every model shape (n_layer, n_embd) gets
D = C / 6N tokens, so small models read many tokens and big ones few (``tokens_per_param`` keeps
only the shapes near each budget's optimum). Each run trains with the
shared ``Trainer`` and lands in its own folder ``<cache>/<run-key>/`` (``run.json`` + the loss
curve ``curve.csv``), written into a temporary folder and renamed into place. The key hashes the
run's spec and the data it trains on, so

- running the sweep again trains nothing (every run is read from its folder), and
- a sweep killed half-way continues with the runs not yet done; finished runs are kept.

    result = sweep()                       # the active profile's grid on the token shards
    result.runs                            # one row per run: N, D, FLOPs, final loss, ...
    result.curves[key]                     # step, tokens, flops, loss of one run
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from minillm import compute, profiles
from minillm.model import GPTConfig

SWEEP_VERSION = 2    # 2: the key holds the number of validation batches


@dataclass(frozen=True)
class ScalingConfig:
    shapes: tuple                      # (n_layer, n_embd) of the sweep's models
    budgets: tuple                     # FLOPs (6 N D) of each IsoFLOP budget
    context_length: int
    batch_size: int
    lr: float
    extra_shapes: tuple = ()           # bigger shapes the prediction may pick
    head_dim: int = 16
    warmup_frac: float = 0.05
    min_lr_ratio: float = 0.1
    eval_batches: int = 8              # validation batches (of batch_size x context) per run
    min_steps: int = 8
    prediction_factor: float = 4.0     # the held-out run gets this many times the largest budget
    tokens_per_param: tuple = (0.0, float("inf"))   # (lo, hi): a budget trains only the shapes
                                                    # whose D / N is inside: those near its optimum
    n_boot: int = 200
    seed: int = 0


profiles.register_stage(
    "scaling",
    configs={
        "smoke": ScalingConfig(shapes=((1, 16), (1, 32), (2, 48)), budgets=(1e9, 2e9),
                               context_length=32, batch_size=8, lr=3e-3, extra_shapes=((2, 64),),
                               eval_batches=2, min_steps=4, n_boot=30),
        # one depth (2 layers: 1-layer models cannot form induction heads and behave like another
        # family), widths 12-64; each budget trains the 4-5 widths with 0.6-14 tokens/param
        "cpu": ScalingConfig(shapes=((2, 12), (2, 16), (2, 24), (2, 32), (2, 40), (2, 48), (2, 64)),
                             budgets=(1e11, 2e11, 4e11, 8e11), context_length=64, batch_size=4,
                             lr=6e-3, tokens_per_param=(0.6, 14), eval_batches=64,
                             extra_shapes=((2, 80), (2, 96), (3, 128), (4, 160))),
        "gpu": ScalingConfig(shapes=((2, 64), (2, 96), (3, 128), (4, 192), (6, 256)),
                             budgets=(1e13, 3e13, 1e14), context_length=256, batch_size=32, lr=2e-3,
                             extra_shapes=((6, 320), (8, 384), (8, 512))),
    },
    minutes={"smoke": 1, "cpu": 10, "gpu": 10},
    description="a sweep of small GPTs, the Chinchilla fits and a held-out prediction",
)


@dataclass(frozen=True)
class RunSpec:
    """One training run of the sweep; everything that changes the result is in here."""
    n_layer: int
    n_embd: int
    n_head: int
    vocab_size: int
    context_length: int
    batch_size: int
    steps: int
    lr: float
    warmup_steps: int
    min_lr: float
    budget: float                     # the nominal IsoFLOP budget this run belongs to
    seed: int = 0

    def model_config(self) -> GPTConfig:
        return GPTConfig.modern(vocab_size=self.vocab_size, context_length=self.context_length,
                                n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd)

    @property
    def n_params(self) -> int:
        # all parameters: the tied embedding is also the output matmul, so 6 N D counts it
        return compute.config_param_counts(self.model_config())["total"]

    @property
    def tokens(self) -> int:
        return self.steps * self.batch_size * self.context_length

    @property
    def flops(self) -> float:
        return 6.0 * self.n_params * self.tokens

    def key(self, data_key: str = "", eval_batches: int = 8) -> str:
        """The run's cache key: its spec, the data and how much of the validation text scores it."""
        payload = {"version": SWEEP_VERSION, "spec": asdict(self), "data": data_key,
                   "eval_batches": eval_batches}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def make_spec(shape, flops: float, config: ScalingConfig, vocab_size: int, budget: float | None = None) -> RunSpec:
    """The run of ``shape`` = (n_layer, n_embd) that spends about ``flops`` (= 6 N D)."""
    n_layer, n_embd = shape
    n_head = max(1, n_embd // config.head_dim)        # the narrowest models get one smaller head
    if n_embd % n_head:
        raise ValueError(f"n_embd={n_embd} must be a multiple of head_dim={config.head_dim}")
    probe = RunSpec(n_layer, n_embd, n_head, vocab_size, config.context_length,
                    config.batch_size, 1, config.lr, 0, config.lr * config.min_lr_ratio,
                    budget or flops, config.seed)
    steps = max(1, round(flops / probe.flops))
    return RunSpec(**{**asdict(probe), "steps": steps,
                      "warmup_steps": max(1, round(config.warmup_frac * steps))})


def plan_sweep(config: ScalingConfig, vocab_size: int) -> list[RunSpec]:
    """Every (budget, shape) run with at least ``min_steps`` steps and D / N inside
    ``tokens_per_param``, small budgets first. Like Hoffmann et al.'s IsoFLOP sizes, the window
    slides to bigger shapes as the budget grows, and no compute goes on runs far from the valley."""
    lo, hi = config.tokens_per_param
    specs = [make_spec(shape, c, config, vocab_size) for c in config.budgets for shape in config.shapes]
    specs = [s for s in specs if s.steps >= config.min_steps and lo <= s.tokens / s.n_params <= hi]
    if not specs:
        raise ValueError("no run of the sweep reaches min_steps with D / N inside tokens_per_param: "
                         "raise the budgets, use smaller shapes or widen the window")
    return specs


# --- one run, and its cache ------------------------------------------------------------------

def train_run(spec: RunSpec, train_tokens, val_tokens, eval_batches: int = 8, callbacks=(),
              progress: bool = False) -> tuple[dict, object]:
    """Train one run with the shared ``Trainer``: (summary, per-step loss curve DataFrame)."""
    import pandas as pd
    import torch

    from minillm.model import GPT
    from minillm.train import TokenLoader, TrainConfig, Trainer, fixed_batches

    torch.manual_seed(spec.seed)
    model = GPT(spec.model_config())
    loader = TokenLoader(train_tokens, spec.batch_size, spec.context_length, seed=spec.seed, rank=0, world_size=1)
    val = fixed_batches(val_tokens, spec.batch_size, spec.context_length, eval_batches)
    train_config = TrainConfig(max_steps=spec.steps, lr=spec.lr, min_lr=spec.min_lr,
                               warmup_steps=spec.warmup_steps, eval_every=0, seed=spec.seed)
    trainer = Trainer(model, train_config, loader, val_batches=val, callbacks=callbacks,
                      device="cpu" if not torch.cuda.is_available() else None, progress=progress)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    if trainer.device.type == "cpu":
        # models this small gain nothing from intra-op threads, and lose a lot on a busy machine
        torch.set_num_threads(1)
    try:
        history = trainer.fit()
    finally:
        torch.set_num_threads(threads)
    curve = pd.DataFrame({"step": history.step, "tokens": history.tokens_seen,
                          "flops": 6.0 * spec.n_params * history.tokens_seen, "loss": history.loss})
    summary = {**asdict(spec), "n_params": spec.n_params, "tokens": spec.tokens, "flops": spec.flops,
               "loss": float(history.val_loss.iloc[-1]),
               "train_loss": float(history.loss.tail(max(1, spec.steps // 10)).mean()),
               "seconds": round(time.perf_counter() - start, 2), "device": str(trainer.device)}
    return summary, curve


class RunCache:
    """Finished runs, one folder each: ``<root>/<key>/run.json`` and ``curve.csv``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def load(self, key: str):
        import pandas as pd

        folder = self.root / key
        if not (folder / "run.json").exists() or not (folder / "curve.csv").exists():
            return None
        return json.loads((folder / "run.json").read_text()), pd.read_csv(folder / "curve.csv")

    def save(self, key: str, summary: dict, curve) -> Path:
        """Write into a temporary sibling and rename: a killed kernel leaves no half run."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        curve.to_csv(tmp / "curve.csv", index=False)
        (tmp / "run.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        target = self.root / key
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        return target

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / "run.json").exists())

    def clean_partial(self) -> int:
        """Remove temporary folders a killed run left behind; return how many."""
        stale = [p for p in self.root.glob(".tmp-*")] if self.root.exists() else []
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)


@dataclass
class SweepResult:
    runs: object                                   # DataFrame, one row per run
    curves: dict = field(default_factory=dict)     # key -> DataFrame(step, tokens, flops, loss)
    trained: list = field(default_factory=list)    # keys trained by this call (not from cache)

    def envelope_curves(self, skip_frac: float = 0.1, smooth_frac: float = 0.05) -> list[dict]:
        """Each run's curve for approach 1: warm-up dropped, train loss smoothed by a centred
        rolling mean (noise would otherwise pick the frontier)."""
        out = []
        for row in self.runs.itertuples():
            curve = self.curves[row.key]
            window = max(1, int(smooth_frac * len(curve)))
            loss = curve["loss"].rolling(window, center=True, min_periods=1).mean().to_numpy()
            keep = np.arange(len(curve)) >= int(skip_frac * len(curve))
            out.append({"n_params": row.n_params, "flops": curve["flops"].to_numpy()[keep],
                        "loss": loss[keep], "key": row.key})
        return out


def run_sweep(specs: list[RunSpec], train_tokens, val_tokens, cache_dir: str | Path, data_key: str = "",
              eval_batches: int = 8, callbacks=(), progress: bool = True, log=print) -> SweepResult:
    """Train every run of ``specs`` not yet in ``cache_dir``; read the others from it."""
    import pandas as pd
    from tqdm.auto import tqdm

    cache = RunCache(cache_dir)
    cache.clean_partial()
    rows, curves, trained = [], {}, []
    keys = [spec.key(data_key, eval_batches) for spec in specs]
    todo = sum(cache.load(k) is None for k in keys)
    if log and todo:
        log(f"sweep: {len(specs) - todo} of {len(specs)} runs cached in {cache.root}; training {todo}")
    quiet = os.environ.get("TQDM_DISABLE", "").strip() not in ("", "0")
    for spec, key in tqdm(list(zip(specs, keys, strict=True)), desc="sweep", disable=quiet or not progress or not todo):
        cached = cache.load(key)
        if cached is None:
            summary, curve = train_run(spec, train_tokens, val_tokens, eval_batches, callbacks)
            cache.save(key, summary, curve)
            trained.append(key)
        else:
            summary, curve = cached
        rows.append({"key": key, **summary, "cached": key not in trained})
        curves[key] = curve
    return SweepResult(pd.DataFrame(rows), curves, trained)


def sweep_data(profile: str | None = None):
    """(train tokens, val tokens, vocab size, data key) from the ``token_shards`` artifact."""
    from minillm import artifacts
    from minillm.tokenizer.stage import load_token_shard, token_shards_meta

    shards = artifacts.get("token_shards", profile=profile)
    meta = token_shards_meta(shards)
    return load_token_shard("train", shards), load_token_shard("val", shards), meta["n_vocab"], shards.key


def cache_dir(profile: str | None = None) -> Path:
    from minillm import paths

    return paths.artifacts_dir(profile or profiles.active_profile()) / "scaling_runs"


def sweep(profile: str | None = None, config: ScalingConfig | None = None, specs: list[RunSpec] | None = None,
          progress: bool = True) -> SweepResult:
    """The profile's sweep (or the given ``specs``) on the course's token shards, cached under
    ``artifacts/<profile>/scaling_runs/``."""
    profile = profile or profiles.active_profile()
    config = config or profiles.stage_config("scaling", profile)
    train, val, vocab, data_key = sweep_data(profile)
    specs = specs if specs is not None else plan_sweep(config, vocab)
    return run_sweep(specs, train, val, cache_dir(profile), data_key, config.eval_batches, progress=progress)
