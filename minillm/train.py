"""The training loop: AdamW, warmup + cosine, clipping, accumulation, mixed precision, DDP.

One step of training:

1. set the learning rate from the schedule (linear warmup, then cosine decay to ``min_lr``);
2. for each of ``grad_accum`` micro-batches: forward under autocast, ``loss / grad_accum``
   backward (gradients add up, so the step sees the mean over all micro-batches);
3. clip the gradient norm to ``grad_clip`` (one bad batch cannot throw the weights far);
4. ``optimizer.step()`` (through the GradScaler, which is a no-op except in fp16).

The loop is not tied to pretraining: ``Trainer`` takes any model, any iterator of batches and a
``loss_fn(model, batch) -> loss`` (default: next-token cross-entropy on ``(x, y)`` batches, where
``y == -100`` marks positions without a loss, as SFT uses). Under ``torchrun`` the same code runs
DDP: each process takes its slice of every global batch, rank 0 alone logs and checkpoints.

    loader = TokenLoader(tokens, batch_size=16, context_length=256, seed=0)
    trainer = Trainer(model, TrainConfig(max_steps=500, lr=3e-3), loader,
                      val_batches=fixed_batches(val_tokens, 16, 256, 10), bytes_per_token=3.9)
    history = trainer.fit()                     # pandas DataFrame: step, loss, lr, tokens/s, MFU, ...
    trainer.save_checkpoint("runs/ckpt");  trainer.resume("runs/ckpt")
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from minillm import checkpoint, compute
from minillm.device import pick_device, precision_for


@dataclass
class TrainConfig:
    max_steps: int = 1000
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0            # 0 turns clipping off
    grad_accum: int = 1
    eval_every: int = 100             # 0: only at the end
    checkpoint_every: int = 0         # 0: only at the end (when out_dir is set)
    log_every: int = 10               # how often the progress bar's numbers change
    compile: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.max_steps < 1 or self.grad_accum < 1:
            raise ValueError(f"max_steps and grad_accum must be >= 1 (got {self.max_steps}, {self.grad_accum})")
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"need 0 <= min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")


def lr_at(step: int, config: TrainConfig) -> float:
    """Learning rate for (0-based) ``step``: linear warmup to ``lr``, cosine down to ``min_lr``."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(1, config.max_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return config.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (config.lr - config.min_lr)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: matrices (embeddings and weights) decay; biases and norm gains do not,
    since shrinking them towards 0 only fights the normalisation."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append((name, p))
    return [{"params": [p for _, p in decay], "names": [n for n, _ in decay], "weight_decay": weight_decay},
            {"params": [p for _, p in no_decay], "names": [n for n, _ in no_decay], "weight_decay": 0.0}]


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    device = next(model.parameters()).device
    return torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.lr,
                             betas=(config.beta1, config.beta2), fused=device.type == "cuda")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def distributed_info() -> DistInfo:
    """Rank and world size; under ``torchrun`` (WORLD_SIZE > 1) this joins the process group
    (NCCL on CUDA, gloo on CPU) on first call."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("MINILLM_DEVICE", "cuda") != "cpu" else "gloo"
        dist.init_process_group(backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


class TokenLoader:
    """Batches of (x, y) windows from a flat token array (e.g. a memmapped shard); y is x shifted
    by one. ``mode="random"`` draws window starts uniformly; ``"sequential"`` walks the shard in
    order, epoch after epoch. Every process draws the same global batch and keeps its slice, so
    DDP on n processes sees exactly the batches one process would."""

    def __init__(self, tokens: np.ndarray, batch_size: int, context_length: int, mode: str = "random",
                 seed: int = 0, rank: int | None = None, world_size: int | None = None):
        if mode not in ("random", "sequential"):
            raise ValueError(f"mode must be 'random' or 'sequential', got {mode!r}")
        if len(tokens) < context_length + 2:
            raise ValueError(f"{len(tokens)} tokens cannot fill one window of context_length="
                             f"{context_length}; use a shorter context or more data")
        info = distributed_info() if rank is None or world_size is None else DistInfo(rank, world_size)
        self.tokens, self.batch_size, self.context_length, self.mode = tokens, batch_size, context_length, mode
        self.rank, self.world_size, self.seed = info.rank, info.world_size, seed
        self.rng = np.random.default_rng(seed)
        self.position, self.epoch = 0, 0
        self.n_windows = (len(tokens) - 1) // context_length
        if mode == "sequential" and self.n_windows < batch_size * self.world_size:
            raise ValueError(f"the shard holds {self.n_windows} windows, fewer than one global batch "
                             f"({batch_size} x {self.world_size} processes)")

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        global_batch = self.batch_size * self.world_size
        T = self.context_length
        if self.mode == "random":
            starts = self.rng.integers(0, len(self.tokens) - T - 1, size=global_batch)
        else:
            if self.position + global_batch > self.n_windows:      # drop the ragged end: new epoch
                self.position, self.epoch = 0, self.epoch + 1
            starts = (np.arange(self.position, self.position + global_batch) * T)
            self.position += global_batch
        mine = starts[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        windows = np.stack([np.asarray(self.tokens[s:s + T + 1], dtype=np.int64) for s in mine])
        data = torch.from_numpy(windows)
        return data[:, :-1], data[:, 1:]

    def state_dict(self) -> dict:
        return {"mode": self.mode, "seed": self.seed, "rng": self.rng.bit_generator.state,
                "position": self.position, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        if state["mode"] != self.mode:
            raise ValueError(f"loader state is for mode {state['mode']!r}, this loader is {self.mode!r}")
        self.rng.bit_generator.state = state["rng"]
        self.position, self.epoch = state["position"], state["epoch"]


def fixed_batches(tokens: np.ndarray, batch_size: int, context_length: int, n_batches: int) -> list:
    """``n_batches`` (x, y) batches of windows spread evenly over ``tokens``: the same every time,
    so validation losses of different steps (and runs) compare."""
    T = context_length
    n = batch_size * n_batches
    if len(tokens) < T + 2:
        raise ValueError(f"{len(tokens)} tokens cannot fill a window of {T}")
    starts = np.linspace(0, len(tokens) - T - 1, n).astype(np.int64)
    data = torch.from_numpy(np.stack([np.asarray(tokens[s:s + T + 1], dtype=np.int64) for s in starts]))
    return [(data[i:i + batch_size, :-1], data[i:i + batch_size, 1:]) for i in range(0, n, batch_size)]


def lm_loss(model, batch):
    """Next-token cross-entropy of an ``(x, y)`` batch (y = -100: no loss at that position)."""
    x, y = batch
    _, loss = model(x, targets=y)
    return loss


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class Callback:
    """Hooks into a run (rank 0 only); override what you need. ``on_step`` runs after every step
    with that step's metrics ``row``; ``on_eval`` after steps that evaluated."""

    def on_step(self, trainer: Trainer, row: dict) -> None: ...

    def on_eval(self, trainer: Trainer, row: dict) -> None: ...

    def on_end(self, trainer: Trainer) -> None: ...


_WATCHERS: list[Callback] = []


@contextlib.contextmanager
def watching(*callbacks: Callback):
    """Hand extra callbacks (a live plot, a printer) to the training runs of artifact builds
    started inside this block (``with watching(LivePlot()): artifacts.get("base_model")``); the
    library itself never draws."""
    _WATCHERS.extend(callbacks)
    try:
        yield
    finally:
        for cb in callbacks:
            _WATCHERS.remove(cb)


def watched_callbacks() -> list[Callback]:
    """The callbacks of the enclosing ``watching`` blocks (builders pass them to their Trainer)."""
    return list(_WATCHERS)


class Trainer:
    def __init__(self, model: torch.nn.Module, config: TrainConfig, train_batches: Iterator,
                 val_batches: Sequence | Callable[[], Sequence] | None = None,
                 loss_fn: Callable = lm_loss, callbacks: Sequence[Callback] = (),
                 out_dir: str | Path | None = None, bytes_per_token: float | None = None,
                 device: str | torch.device | None = None, progress: bool = True):
        self.config, self.loss_fn, self.callbacks = config, loss_fn, list(callbacks)
        self.train_batches, self.val_batches = train_batches, val_batches
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.bytes_per_token, self.progress = bytes_per_token, progress
        self.dist = distributed_info()
        if device is None and self.dist.world_size > 1 and torch.cuda.is_available():
            device = f"cuda:{self.dist.local_rank}"
        self.device = pick_device(str(device) if device is not None else None)
        if self.device.type == "cuda":
            if self.device.index is None:          # "cuda" means the current GPU: name it
                self.device = torch.device("cuda", torch.cuda.current_device())
            torch.cuda.set_device(self.device)
        self.precision = precision_for(self.device)
        self.model = model.to(self.device)
        self.optimizer = make_optimizer(self.model, config)
        self.scaler = self.precision.grad_scaler(self.device)
        engine = self.model
        if self.dist.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            engine = DistributedDataParallel(engine, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.engine = torch.compile(engine) if config.compile else engine
        self.step, self.history, self.samples = 0, [], []
        self.tokens_seen, self.train_seconds = 0, 0.0
        self._peak = None
        self._model_config = getattr(self.model, "config", None)

    # --- one optimisation step ------------------------------------------------------------
    def _train_step(self) -> dict:
        cfg = self.config
        lr = lr_at(self.step, cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss_sum = torch.zeros((), device=self.device)
        tokens = 0
        for micro in range(cfg.grad_accum):
            batch = to_device(next(self.train_batches), self.device)
            last = micro == cfg.grad_accum - 1
            sync = self.engine.no_sync() if self.dist.world_size > 1 and not last and hasattr(self.engine, "no_sync") \
                else contextlib.nullcontext()
            with sync:
                with self.precision.autocast(self.device):
                    loss = self.loss_fn(self.engine, batch)
                self.scaler.scale(loss / cfg.grad_accum).backward()
            loss_sum += loss.detach().float()
            tokens += _count_tokens(batch)
        loss_value = loss_sum / cfg.grad_accum
        if self.dist.world_size > 1:
            dist.all_reduce(loss_value, op=dist.ReduceOp.SUM)
            loss_value /= self.dist.world_size
        loss_value = loss_value.item()
        if not math.isfinite(loss_value):
            self.optimizer.zero_grad(set_to_none=True)
            raise TrainingDiverged(
                f"the loss is {loss_value} at step {self.step + 1}: training diverged. Likely causes: "
                f"a learning rate too high (lr={lr:.2e}; try 3x lower or a longer warmup), fp16 "
                f"overflow (use bf16, or keep the GradScaler on), gradient clipping off "
                f"(grad_clip={cfg.grad_clip}), or bad data (token ids out of range, a batch whose "
                f"targets are all masked). Resume from the last checkpoint with a lower lr.")
        grad_norm = float("nan")
        if cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return {"loss": loss_value, "lr": lr, "grad_norm": grad_norm, "tokens": tokens * self.dist.world_size}

    # --- the loop -------------------------------------------------------------------------
    def fit(self, steps: int | None = None):
        """Train until ``max_steps`` (or for ``steps`` more); return the history as a DataFrame."""
        import pandas as pd
        from tqdm.auto import tqdm

        cfg = self.config
        end = cfg.max_steps if steps is None else min(cfg.max_steps, self.step + steps)
        quiet = os.environ.get("TQDM_DISABLE", "").strip() not in ("", "0")
        bar = tqdm(total=end, initial=self.step, desc="training", dynamic_ncols=True,
                   disable=quiet or not (self.progress and self.dist.is_main))
        self.model.train()
        try:
            while self.step < end:
                start = time.perf_counter()
                try:
                    row = self._train_step()
                except torch.cuda.OutOfMemoryError as err:
                    raise RuntimeError(_oom_message(self, err)) from err
                if self.device.type == "cuda":
                    torch.cuda.synchronize(self.device)
                elapsed = time.perf_counter() - start
                self.step += 1
                self.tokens_seen += row["tokens"]
                self.train_seconds += elapsed
                row = {"step": self.step, **row, "tokens_seen": self.tokens_seen,
                       "tokens_per_s": row["tokens"] / elapsed, "mfu": self._mfu(row["tokens"] / elapsed),
                       "train_seconds": self.train_seconds}
                evaluate_now = self.step == cfg.max_steps or (cfg.eval_every and self.step % cfg.eval_every == 0)
                if evaluate_now and self.val_batches is not None:
                    row.update(self.evaluate())
                self.history.append(row)
                if self.dist.is_main:
                    if self.step % cfg.log_every == 0 or self.step == end:
                        bar.set_postfix(loss=f"{row['loss']:.3f}", tok_s=f"{row['tokens_per_s']:.0f}",
                                        mfu=f"{row['mfu']:.1%}" if row["mfu"] == row["mfu"] else "n/a")
                    for cb in self.callbacks:
                        cb.on_step(self, row)
                    if "val_loss" in row:
                        for cb in self.callbacks:
                            cb.on_eval(self, row)
                bar.update(1)
                if self.out_dir is not None and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint(self.out_dir / "checkpoint")
        finally:
            bar.close()
        if self.dist.is_main:
            for cb in self.callbacks:
                cb.on_end(self)
            if self.out_dir is not None:
                self.save_checkpoint(self.out_dir / "checkpoint")
                self.save_metrics(self.out_dir)
        return pd.DataFrame(self.history)

    def _mfu(self, tokens_per_s: float) -> float:
        if self._model_config is None or not hasattr(self._model_config, "n_embd"):
            return float("nan")
        if self._peak is None:
            self._peak = compute.peak_flops(self.device, self.precision.name)[0]
        seq = getattr(self.train_batches, "context_length", None)
        return compute.mfu(tokens_per_s, compute.flops_per_token(self._model_config, seq), self._peak)

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Mean validation loss (nats/token) over ``val_batches``, and bits per byte when
        ``bytes_per_token`` is known (comparable across tokenizers)."""
        batches = self.val_batches() if callable(self.val_batches) else self.val_batches
        was_training = self.model.training
        self.model.eval()
        losses = []
        for batch in batches:
            with self.precision.autocast(self.device):
                losses.append(float(self.loss_fn(self.model, to_device(batch, self.device))))
        self.model.train(was_training)
        val_loss = sum(losses) / len(losses)
        out = {"val_loss": val_loss}
        if self.bytes_per_token:
            out["val_bpb"] = val_loss / math.log(2) / self.bytes_per_token
        return out

    # --- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        np_state = np.random.get_state()
        state = {"step": self.step, "tokens_seen": self.tokens_seen, "train_seconds": self.train_seconds,
                 "history": self.history, "config": asdict(self.config),
                 "schedule": {"kind": "warmup+cosine", "step": self.step},
                 "scaler": self.scaler.state_dict(),
                 "rng": {"torch": torch.get_rng_state(), "python": random.getstate(),
                         "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]]}}
        if torch.cuda.is_available():
            state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
        if hasattr(self.train_batches, "state_dict"):
            state["loader"] = self.train_batches.state_dict()
        return state

    def save_checkpoint(self, path: str | Path) -> Path | None:
        """Model, optimizer, schedule, RNG states and data position (rank 0 writes)."""
        if not self.dist.is_main:
            return None
        return checkpoint.save_checkpoint(path, self.model, self.optimizer, self.state_dict(),
                                          meta={"step": self.step, "tokens_seen": self.tokens_seen})

    def resume(self, path: str | Path) -> dict:
        """Load a checkpoint written by ``save_checkpoint``; ``fit`` then continues exactly."""
        state = checkpoint.load_checkpoint(path, self.model, self.optimizer, map_location=self.device)
        if not state:
            raise checkpoint.CheckpointError(f"{path} holds weights only; resume needs a training checkpoint")
        self.step, self.tokens_seen = state["step"], state["tokens_seen"]
        self.train_seconds, self.history = state["train_seconds"], list(state["history"])
        self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        random.setstate(_tuples(rng["python"]))
        np.random.set_state((rng["numpy"][0], np.array(rng["numpy"][1], dtype=np.uint32), *rng["numpy"][2:]))
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        if "loader" in state and hasattr(self.train_batches, "load_state_dict"):
            self.train_batches.load_state_dict(state["loader"])
        return state

    def save_metrics(self, out_dir: str | Path) -> None:
        """``metrics.csv`` and ``metrics.jsonl``: one row per step (val columns where evaluated)."""
        import pandas as pd

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(self.history).to_csv(out_dir / "metrics.csv", index=False)
        with open(out_dir / "metrics.jsonl", "w") as f:
            for row in self.history:
                clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                f.write(json.dumps(clean) + "\n")


def _tuples(value):
    """torch.save keeps tuples, but be lenient with lists (random.setstate needs tuples)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _count_tokens(batch) -> int:
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0].numel()
    if isinstance(batch, dict):
        for key in ("input_ids", "x"):
            if key in batch:
                return batch[key].numel()
    return 0


def _oom_message(trainer: Trainer, err: Exception) -> str:
    loader = trainer.train_batches
    batch = getattr(loader, "batch_size", "?")
    context = getattr(loader, "context_length", "?")
    return (f"out of GPU memory at step {trainer.step + 1} (batch_size={batch}, context={context}, "
            f"grad_accum={trainer.config.grad_accum}). Halve the batch size and double grad_accum "
            f"(same tokens per step), shorten the context, or use a smaller model. ({err})")


class SampleCallback(Callback):
    """Every ``every`` steps (and at the end), continue a few prompts and keep the text in
    ``trainer.samples``: watch language emerge during training."""

    def __init__(self, encoding, prompts: Sequence[str], every: int, max_new_tokens: int = 40,
                 temperature: float = 0.0, printer: Callable[[str], None] | None = None):
        self.encoding, self.prompts, self.every = encoding, list(prompts), every
        self.max_new_tokens, self.temperature, self.printer = max_new_tokens, temperature, printer

    def _sample(self, trainer: Trainer) -> None:
        from minillm.generate import complete

        texts = complete(trainer.model, self.encoding, self.prompts, self.max_new_tokens,
                         temperature=self.temperature, seed=0)
        for prompt, text in zip(self.prompts, texts, strict=True):
            trainer.samples.append({"step": trainer.step, "prompt": prompt, "completion": text})
            if self.printer is not None:
                self.printer(f"step {trainer.step:>5} | {prompt}{text!r}")

    def on_step(self, trainer: Trainer, row: dict) -> None:
        if trainer.step % self.every == 0:
            self._sample(trainer)

    def on_end(self, trainer: Trainer) -> None:
        if not trainer.samples or trainer.samples[-1]["step"] != trainer.step:
            self._sample(trainer)


def plot_history(history, ax=None, smooth: int = 20):
    """Training loss (raw and smoothed) and validation loss against step, on a matplotlib axis."""
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    if len(frame):
        ax.plot(frame["step"], frame["loss"], alpha=0.25, color="C0")
        ax.plot(frame["step"], frame["loss"].rolling(smooth, min_periods=1).mean(), color="C0",
                label="train loss")
        if "val_loss" in frame:
            val = frame.dropna(subset=["val_loss"])
            ax.plot(val["step"], val["val_loss"], "o-", color="C1", label="val loss")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.legend(loc="upper right")
    return ax
