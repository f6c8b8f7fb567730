"""The rlhf stage: a reward model, a PPO policy and a DPO policy, all judged by TinyWorld's gold judge.

- ``reward_model``: judge-labelled pairs (programmatic candidates and the SFT model's own samples)
  on fresh train-split prompts; a ``RewardModel`` on a copy of the SFT model trained with the
  Bradley-Terry loss; its pairwise accuracy and margins on validation-split pairs.
- ``ppo_policy``: PPO against the reward model with a KL penalty to the SFT model, held-out
  curves (proxy score, gold score, KL) every ``eval_every`` steps, and the final comparison with
  the SFT model on the test prompts (win / tie / loss by gold score).
- ``dpo_policy``: DPO on the same preference pairs (no reward model, no sampling), measured the
  same way.
- ``rlhf_sweep``: the extra runs behind two plots: PPO with a small and a large KL penalty (the
  small one shows over-optimisation: proxy up, gold down) and DPO at several betas; every run's
  held-out curve, for the reward-vs-KL frontier.

    rm = load_reward_model()                         # RewardModel, builds the artifact if needed
    policy = load_policy("ppo_policy")               # GPT
    table = load_eval_table("ppo_policy")            # one row per (model, test prompt)
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, fields, make_dataclass

from minillm import artifacts, profiles
from minillm.train import Callback


@dataclass(frozen=True)
class RLHFConfig:
    prompts_per_family: int        # train-split prompts per family (pairs, PPO rollouts)
    val_per_family: int            # validation prompts per family (reward-model accuracy)
    curve_per_family: int          # validation prompts per family for the training curves
    eval_per_family: int           # test prompts per family for the final comparison
    rm_steps: int
    ppo_steps: int
    dpo_steps: int
    samples_per_prompt: int = 4    # SFT samples per prompt for the sample pairs
    pairs_per_example: int = 2
    sample_margin: float = 0.02    # smallest gold gap kept in a sample pair
    rm_batch_size: int = 16
    rm_lr: float = 3e-4
    max_new_tokens: int = 32
    ppo_batch_size: int = 32
    ppo_minibatch_size: int = 16
    ppo_epochs: int = 2
    ppo_lr: float = 2e-5
    kl_coef: float = 0.05
    dpo_batch_size: int = 16
    dpo_lr: float = 2e-5
    dpo_beta: float = 0.1
    eval_every: int = 10           # PPO steps (DPO: trainer steps) between curve points
    hack_kl_coef: float = 0.0      # the sweep's small KL penalty (over-optimisation)
    strong_kl_coef: float = 0.5    # the sweep's large KL penalty
    hack_steps_factor: float = 2.0  # the small-penalty run goes this many times longer
    sweep_betas: tuple = (0.03, 0.3)
    sweep_ppo_lr: float = 5e-5     # the sweep's PPO runs move faster, to show over-optimisation
    sweep_ppo_steps: int = 40      # the large-penalty run; the small one runs hack_steps_factor x
    prompt_seed: int = 1           # make_sft_examples seed of the RLHF prompts (SFT used 0)
    # jailbreak-wrapped harmful train-split requests per pattern (and as many benign
    # look-alikes) added to the RLHF prompts; notebook 09 attacks held-out requests
    redteam_per_pattern: int = 0
    seed: int = 0


REWARD_FIELDS = ("prompts_per_family", "val_per_family", "curve_per_family", "eval_per_family",
                 "rm_steps", "samples_per_prompt", "pairs_per_example", "sample_margin",
                 "rm_batch_size", "rm_lr", "max_new_tokens", "prompt_seed", "redteam_per_pattern",
                 "seed")


@dataclass(frozen=True)
class RewardConfig:
    """The part of ``RLHFConfig`` the reward model depends on (its artifact key): changing a PPO
    or DPO setting does not rebuild the reward model."""
    prompts_per_family: int
    val_per_family: int
    curve_per_family: int
    eval_per_family: int
    rm_steps: int
    samples_per_prompt: int
    pairs_per_example: int
    sample_margin: float
    rm_batch_size: int
    rm_lr: float
    max_new_tokens: int
    prompt_seed: int
    redteam_per_pattern: int
    seed: int


def reward_config(profile: str) -> RewardConfig:
    config = profiles.stage_config("rlhf", profile)
    return RewardConfig(**{name: getattr(config, name) for name in REWARD_FIELDS})


PROMPT_FIELDS = ("prompts_per_family", "val_per_family", "curve_per_family", "eval_per_family",
                 "max_new_tokens", "prompt_seed", "redteam_per_pattern", "seed")
DPO_FIELDS = (*PROMPT_FIELDS, "dpo_steps", "dpo_batch_size", "dpo_lr", "dpo_beta")
SWEEP_FIELDS = (*PROMPT_FIELDS, "ppo_batch_size", "ppo_minibatch_size", "ppo_epochs", "eval_every",
                "hack_kl_coef", "strong_kl_coef", "hack_steps_factor", "sweep_betas",
                "sweep_ppo_lr", "sweep_ppo_steps", "dpo_steps", "dpo_batch_size", "dpo_lr")


def _subset(name: str, names: tuple):
    """A frozen dataclass holding only ``names`` of ``RLHFConfig`` (an artifact's key)."""
    types = {f.name: f.type for f in fields(RLHFConfig)}
    cls = make_dataclass(name, [(n, types[n]) for n in names], frozen=True)

    def for_profile(profile: str):
        config = profiles.stage_config("rlhf", profile)
        return cls(**{n: getattr(config, n) for n in names})

    return for_profile


dpo_config = _subset("DPOStageConfig", DPO_FIELDS)
sweep_config = _subset("SweepConfig", SWEEP_FIELDS)


profiles.register_stage(
    "rlhf",
    configs={
        "smoke": RLHFConfig(prompts_per_family=6, val_per_family=3, curve_per_family=2,
                            eval_per_family=3, rm_steps=6, ppo_steps=2, dpo_steps=4,
                            samples_per_prompt=2, ppo_batch_size=8, ppo_minibatch_size=8,
                            dpo_batch_size=8, rm_batch_size=8, max_new_tokens=16, eval_every=2,
                            sweep_betas=(0.3,), hack_steps_factor=1.0, sweep_ppo_steps=2,
                            redteam_per_pattern=1),
        "cpu": RLHFConfig(prompts_per_family=240, val_per_family=40, curve_per_family=6,
                          eval_per_family=50, rm_steps=300, ppo_steps=40, kl_coef=0.1,
                          dpo_steps=120, dpo_lr=5e-5, hack_steps_factor=1.5, sweep_betas=(0.5,),
                          sweep_ppo_lr=1e-4, redteam_per_pattern=40),
        "gpu": RLHFConfig(prompts_per_family=400, val_per_family=100, curve_per_family=12,
                          eval_per_family=200, rm_steps=800, ppo_steps=200, dpo_steps=400,
                          ppo_batch_size=64, eval_every=20, samples_per_prompt=6,
                          sweep_ppo_steps=200, redteam_per_pattern=30),
    },
    minutes={"smoke": 1, "cpu": 9, "gpu": 10},   # cpu: 484 s with every artifact built in it
    description="a reward model, PPO and DPO, judged by the TinyWorld gold judge",
)

DEPS = ("sft_model", "tokenizer", "tinyworld_sft", "tinyworld_world")


# --- shared set-up -----------------------------------------------------------------------------

@dataclass
class Setting:
    """What every builder needs: the tokenizer, the SFT model, the judge and the prompt sets."""
    encoding: object
    sft: object
    judge: object
    train: list        # RLHF prompts (train split, fresh seed)
    val: list          # reward-model validation prompts
    curve: list        # prompts of the training curves (validation split)
    test: list         # final comparison (test split, as the SFT notebook's evaluation)

    @property
    def pad(self) -> int:
        from minillm.sft.template import end_token

        return end_token(self.encoding)

    @property
    def by_id(self) -> dict:
        return {ex.id: ex for ex in self.train + self.val + self.curve + self.test}


def setting(config: RLHFConfig | RewardConfig, inputs: dict) -> Setting:
    from minillm.data.build import load_sft, world_from
    from minillm.data.tinyworld.judge import GoldJudge
    from minillm.data.tinyworld.sft import make_sft_examples
    from minillm.evaluate.redteam import training_attacks
    from minillm.rlhf.tinyworld import per_family
    from minillm.sft.stage import fitting, load_sft_model
    from minillm.tokenizer.stage import load_tokenizer

    encoding = load_tokenizer(inputs["tokenizer"])
    sft = load_sft_model(inputs["sft_model"])
    world = world_from(inputs["tinyworld_world"])
    T, room = sft.config.context_length, config.max_new_tokens

    def usable(examples, n):
        return per_family(fitting(encoding, examples, T, room), n)

    train = usable(make_sft_examples(world, "train", n_per_family=config.prompts_per_family,
                                     seed=config.prompt_seed), config.prompts_per_family)
    if config.redteam_per_pattern:         # attacks on train-split requests (09 tests held-out ones)
        attacks = training_attacks(world, config.redteam_per_pattern, seed=config.prompt_seed)
        train += fitting(encoding, attacks, T, room)
    validation = fitting(encoding, load_sft("validation", inputs["tinyworld_sft"]), T, room)
    val = per_family(validation, config.val_per_family)
    used = {ex.id for ex in val}
    curve = per_family([ex for ex in validation if ex.id not in used], config.curve_per_family)
    test = usable(load_sft("test", inputs["tinyworld_sft"]), config.eval_per_family)
    return Setting(encoding, sft, GoldJudge(world), train, val, curve, test)


def preference_pairs(config: RLHFConfig | RewardConfig, s: Setting):
    """Candidate and SFT-sample pairs on the train and validation prompts (a DataFrame)."""
    import pandas as pd

    from minillm.rlhf.tinyworld import preference_table, sample_replies

    frames = []
    for offset, examples in enumerate((s.train, s.val)):
        frames.append(preference_table(examples, s.judge, "candidates", seed=config.seed + offset,
                                       pairs_per_example=config.pairs_per_example))
        samples = sample_replies(s.sft, s.encoding, examples, config.samples_per_prompt,
                                 seed=config.seed + 100 * (offset + 1),
                                 max_new_tokens=config.max_new_tokens)
        frames.append(preference_table(examples, s.judge, "sft samples", responses=samples,
                                       seed=config.seed + offset,
                                       pairs_per_example=config.pairs_per_example,
                                       min_margin=config.sample_margin))
    return pd.concat(frames, ignore_index=True)


def _save_gpt(model, out_dir, inputs, config: RLHFConfig, **extra) -> None:
    from safetensors.torch import save_model

    save_model(model, str(out_dir / "model.safetensors"))
    info = {"model": model.config.to_dict(), "tokenizer_key": inputs["tokenizer"].key,
            "rlhf": asdict(config), **extra}
    (out_dir / "config.json").write_text(json.dumps(info, indent=2) + "\n")


# --- the reward model --------------------------------------------------------------------------

TRAIN_PAIRS_SCORED = 1000   # training pairs the reward model scores after training (train accuracy)


@artifacts.register("reward_model", deps=DEPS, stage="rlhf", version=7, config=reward_config)
def build_reward_model(out_dir, config: RewardConfig, inputs):
    """Judge-labelled pairs and a Bradley-Terry reward model on a copy of the SFT model.
    ``pairs.parquet`` holds every pair; its ``r_chosen``/``r_rejected`` (the reward model's
    scores) are set for every held-out pair and ``TRAIN_PAIRS_SCORED`` training pairs (NaN on
    the rest)."""
    import numpy as np
    import pandas as pd
    from safetensors.torch import save_model

    from minillm.device import seed_everything
    from minillm.rlhf.logprobs import PreferenceBatches, collate_preferences
    from minillm.rlhf.reward import RewardModel, RewardModelLoss
    from minillm.rlhf.tinyworld import to_triples
    from minillm.train import TrainConfig, Trainer, watched_callbacks

    s = setting(config, inputs)
    seed_everything(config.seed)
    pairs = preference_pairs(config, s)
    T = s.sft.config.context_length
    triples, keep = to_triples(s.encoding, pairs, s.by_id, T)
    pairs = pairs[keep].reset_index(drop=True)
    is_train = (pairs.split == "train").to_numpy()
    train = [t for t, k in zip(triples, is_train, strict=True) if k]
    val = [t for t, k in zip(triples, is_train, strict=True) if not k]

    model = RewardModel(copy.deepcopy(s.sft))
    loss = RewardModelLoss()
    batches = PreferenceBatches(train, config.rm_batch_size, s.pad, seed=config.seed)
    val_batches = [collate_preferences(val[i:i + 64], s.pad) for i in range(0, len(val), 64)]
    train_config = TrainConfig(max_steps=config.rm_steps, lr=config.rm_lr,
                               min_lr=config.rm_lr * 0.1,
                               warmup_steps=max(1, config.rm_steps // 20), weight_decay=0.0,
                               eval_every=max(1, config.rm_steps // 6),
                               log_every=max(1, config.rm_steps // 40), seed=config.seed)
    trainer = Trainer(model, train_config, batches, val_batches=val_batches, loss_fn=loss,
                      callbacks=[loss, *watched_callbacks()])
    history = trainer.fit()
    trainer.save_metrics(out_dir)
    model = trainer.model.cpu().eval()

    # scores of every held-out pair and of a fixed sample of training pairs (the train accuracy;
    # scoring all of them would cost as much as the training)
    rng = np.random.default_rng(config.seed)
    sample = rng.choice(np.flatnonzero(is_train), min(TRAIN_PAIRS_SCORED, int(is_train.sum())),
                        replace=False)
    scored = np.flatnonzero(~is_train).tolist() + sorted(sample.tolist())
    r_chosen, r_rejected = np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    r_chosen[scored] = model.score([triples[i][0] + triples[i][1] for i in scored], s.pad)
    r_rejected[scored] = model.score([triples[i][0] + triples[i][2] for i in scored], s.pad)
    pairs = pairs.assign(r_chosen=r_chosen, r_rejected=r_rejected)
    pairs.to_parquet(out_dir / "pairs.parquet", index=False)
    save_model(model, str(out_dir / "model.safetensors"))
    info = {"model": s.sft.config.to_dict(), "tokenizer_key": inputs["tokenizer"].key,
            "rlhf": asdict(config)}
    (out_dir / "config.json").write_text(json.dumps(info, indent=2) + "\n")
    held_out = pairs[pairs.split != "train"]
    right = held_out.r_chosen > held_out.r_rejected
    by_source = {f"val_accuracy_{k.replace(' ', '_')}": round(float(v), 4)
                 for k, v in right.groupby(held_out.source).mean().items()}
    return {"train_pairs": len(train), "val_pairs": len(val),
            "val_accuracy": round(float(right.mean()), 4), **by_source,
            "train_accuracy": round(float((r_chosen[sample] > r_rejected[sample]).mean()), 4),
            "steps": int(history.step.iloc[-1]),
            "train_seconds": round(float(history.train_seconds.iloc[-1]), 1),
            "pairs_by_source": {k: int(v) for k, v in pd.Series(pairs.source).value_counts().items()}}


def load_reward_model(artifact: artifacts.Artifact | None = None):
    """The ``RewardModel`` of a ``reward_model`` artifact (built on demand), in eval mode."""
    from safetensors.torch import load_model

    from minillm.model import GPT, GPTConfig
    from minillm.rlhf.reward import RewardModel

    artifact = artifact if artifact is not None else artifacts.get("reward_model")
    info = json.loads(artifact.file("config.json").read_text())
    model = RewardModel(GPT(GPTConfig.from_dict(info["model"])))
    load_model(model, str(artifact.file("model.safetensors")), strict=True)
    return model.eval()


def load_pairs(artifact: artifacts.Artifact | None = None):
    """The preference pairs (both splits) with the reward model's scores (every held-out pair,
    a sample of the training pairs; NaN on the others)."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get("reward_model")
    return pd.read_parquet(artifact.file("pairs.parquet"))


# --- PPO -----------------------------------------------------------------------------------------

def run_ppo(config: RLHFConfig, s: Setting, reward_model, kl_coef: float, steps: int,
            callbacks=(), label: str = "ppo", lr: float | None = None):
    """PPO from the SFT model; returns the policy, the step history, the held-out curve and the
    held-out samples of the last measurement (DataFrames)."""
    import pandas as pd

    from minillm.device import seed_everything
    from minillm.rlhf.logprobs import cycle_batches
    from minillm.rlhf.ppo import PPOConfig, PPOTrainer
    from minillm.rlhf.tinyworld import curve_point, evaluate_policy, prompt_ids

    seed_everything(config.seed)
    policy, ref = copy.deepcopy(s.sft), copy.deepcopy(s.sft)
    ppo_config = PPOConfig(max_new_tokens=config.max_new_tokens, eos_id=s.pad, pad_id=s.pad,
                           lr=config.ppo_lr if lr is None else lr, ppo_epochs=config.ppo_epochs,
                           minibatch_size=config.ppo_minibatch_size, kl_coef=kl_coef,
                           seed=config.seed)
    trainer = PPOTrainer(policy, ref, reward_model.as_reward_fn(s.pad), ppo_config)
    curve, last = [], {}

    def measure(step):
        table = evaluate_policy(policy, ref, reward_model, s.encoding, s.curve, s.judge, label,
                                config.max_new_tokens, sampled=True, seed=config.seed)
        curve.append(curve_point(table, method="PPO", kl_coef=kl_coef, step=step, label=label))
        last["table"] = table.assign(step=step)

    def after_step(trainer, stats):
        if stats["step"] % config.eval_every == 0 or stats["step"] == steps:
            measure(stats["step"])
            stats.update({f"heldout_{k}": curve[-1][k] for k in ("gold", "proxy", "kl")})
        for cb in callbacks:
            cb.on_step(trainer, stats)

    measure(0)
    prompts = [prompt_ids(s.encoding, ex) for ex in s.train]
    history = trainer.train(cycle_batches(prompts, config.ppo_batch_size, seed=config.seed),
                            steps, after_step)
    for cb in callbacks:
        cb.on_end(trainer)
    return policy.eval(), history, pd.DataFrame(curve), last["table"]


def compare_with_sft(policy, name: str, s: Setting, reward_model, config: RLHFConfig):
    """Greedy replies of the SFT model and ``policy`` on the test prompts, and the win rate."""
    import pandas as pd

    from minillm.rlhf.tinyworld import evaluate_policy, win_tie_loss

    args = (s.encoding, s.test, s.judge)
    sft = evaluate_policy(s.sft, s.sft, reward_model, *args, "sft", config.max_new_tokens,
                          seed=config.seed)
    new = evaluate_policy(policy, s.sft, reward_model, *args, name, config.max_new_tokens,
                          seed=config.seed)
    table = pd.concat([sft, new], ignore_index=True)
    result = win_tie_loss(new.gold, sft.gold)
    summary = {"win": result["win"], "tie": result["tie"], "loss": result["loss"],
               "win_rate": result["win_rate"], "n_prompts": result["n"],
               "kl": round(float(new.kl.mean()), 4),
               "gold": round(float(new.gold.mean()), 4), "sft_gold": round(float(sft.gold.mean()), 4),
               "proxy": round(float(new.proxy.mean()), 4),
               "sft_proxy": round(float(sft.proxy.mean()), 4)}
    return table, summary


def _history_csv(history, curve, out_dir):
    history.to_csv(out_dir / "history.csv", index=False)
    curve.to_csv(out_dir / "curve.csv", index=False)


@artifacts.register("ppo_policy", deps=(*DEPS, "reward_model"), stage="rlhf", version=2)
def build_ppo_policy(out_dir, config: RLHFConfig, inputs):
    """PPO on the reward model with a KL penalty to the SFT model; its test-prompt evaluation."""
    from minillm.train import watched_callbacks

    s = setting(config, inputs)
    rm = load_reward_model(inputs["reward_model"])
    start = time.perf_counter()
    policy, history, curve, _ = run_ppo(config, s, rm, config.kl_coef, config.ppo_steps,
                                        watched_callbacks())
    seconds = time.perf_counter() - start
    _history_csv(history, curve, out_dir)
    table, summary = compare_with_sft(policy, "ppo", s, rm, config)
    table.to_parquet(out_dir / "eval.parquet", index=False)
    _save_gpt(policy, out_dir, inputs, config)
    return {**summary, "kl_coef": config.kl_coef, "steps": config.ppo_steps,
            "train_seconds": round(seconds, 1)}


# --- DPO -----------------------------------------------------------------------------------------

class CurveCallback(Callback):
    """A ``Trainer`` callback that measures the policy on the curve prompts every ``every`` steps
    (gold, proxy, KL) and hands each step's row to ``callbacks``."""

    def __init__(self, s: Setting, reward_model, ref, config: RLHFConfig, beta: float,
                 every: int, label: str, callbacks=()):
        self.s, self.rm, self.ref, self.config = s, reward_model, ref, config
        self.beta, self.every, self.label, self.callbacks = beta, every, label, list(callbacks)
        self.curve: list[dict] = []

    def measure(self, model, step: int) -> None:
        from minillm.rlhf.tinyworld import curve_point, evaluate_policy

        table = evaluate_policy(model, self.ref, self.rm, self.s.encoding, self.s.curve,
                                self.s.judge, self.label, self.config.max_new_tokens,
                                sampled=True, seed=self.config.seed)
        self.curve.append(curve_point(table, method="DPO", beta=self.beta, step=step,
                                      label=self.label))

    def on_step(self, trainer, row: dict) -> None:
        if row["step"] % self.every == 0 or row["step"] == trainer.config.max_steps:
            self.measure(trainer.model, row["step"])
            row.update({f"heldout_{k}": self.curve[-1][k] for k in ("gold", "proxy", "kl")})
        for cb in self.callbacks:
            cb.on_step(trainer, row)

    def on_eval(self, trainer, row: dict) -> None:
        for cb in self.callbacks:
            cb.on_eval(trainer, row)

    def on_end(self, trainer) -> None:
        for cb in self.callbacks:
            cb.on_end(trainer)


def run_dpo(config: RLHFConfig, s: Setting, reward_model, pairs, beta: float, callbacks=(),
            label: str = "dpo"):
    """DPO from the SFT model on the train pairs; returns (policy, history, curve DataFrame)."""
    import pandas as pd

    from minillm.device import seed_everything
    from minillm.rlhf.dpo import DPOConfig, train_dpo
    from minillm.rlhf.tinyworld import to_triples
    from minillm.train import TrainConfig

    seed_everything(config.seed)
    T = s.sft.config.context_length
    train, _ = to_triples(s.encoding, pairs[pairs.split == "train"], s.by_id, T)
    val, _ = to_triples(s.encoding, pairs[pairs.split != "train"], s.by_id, T)
    policy, ref = copy.deepcopy(s.sft), copy.deepcopy(s.sft)
    every = max(1, config.dpo_steps // 6)
    curve = CurveCallback(s, reward_model, ref, config, beta, every, label, callbacks)
    curve.measure(policy, 0)
    history = train_dpo(policy, ref, train, DPOConfig(beta=beta, batch_size=config.dpo_batch_size,
                                                      seed=config.seed),
                        TrainConfig(max_steps=config.dpo_steps, lr=config.dpo_lr,
                                    min_lr=config.dpo_lr * 0.1,
                                    warmup_steps=max(1, config.dpo_steps // 10), weight_decay=0.0,
                                    eval_every=every, log_every=max(1, config.dpo_steps // 40),
                                    seed=config.seed),
                        pad_id=s.pad, val_triples=val, callbacks=[curve])
    return policy.cpu().eval(), history, pd.DataFrame(curve.curve)


@artifacts.register("dpo_policy", deps=(*DEPS, "reward_model"), stage="rlhf", version=3, config=dpo_config)
def build_dpo_policy(out_dir, config: RLHFConfig, inputs):
    """DPO on the reward model's preference pairs; its test-prompt evaluation."""
    from minillm.train import watched_callbacks

    s = setting(config, inputs)
    rm = load_reward_model(inputs["reward_model"])
    start = time.perf_counter()
    policy, history, curve = run_dpo(config, s, rm, load_pairs(inputs["reward_model"]),
                                     config.dpo_beta, watched_callbacks())
    seconds = time.perf_counter() - start
    _history_csv(history, curve, out_dir)
    table, summary = compare_with_sft(policy, "dpo", s, rm, config)
    table.to_parquet(out_dir / "eval.parquet", index=False)
    _save_gpt(policy, out_dir, inputs, config)
    return {**summary, "beta": config.dpo_beta, "steps": config.dpo_steps,
            "train_seconds": round(seconds, 1),
            "final_preference_accuracy": round(float(history["rewards/accuracy"].tail(10).mean()),
                                               4)}


# --- the sweep: over-optimisation and the frontier ----------------------------------------------

@artifacts.register("rlhf_sweep", deps=(*DEPS, "reward_model"), stage="rlhf", version=3, config=sweep_config)
def build_rlhf_sweep(out_dir, config: RLHFConfig, inputs):
    """Held-out curves of PPO at a small and a large KL penalty and of DPO at other betas."""
    import pandas as pd

    s = setting(config, inputs)
    rm = load_reward_model(inputs["reward_model"])
    pairs = load_pairs(inputs["reward_model"])
    curves, histories, samples = [], [], []
    hack_steps = max(1, round(config.sweep_ppo_steps * config.hack_steps_factor))
    for kl_coef, steps in ((config.hack_kl_coef, hack_steps), (config.strong_kl_coef,
                                                              config.sweep_ppo_steps)):
        label = f"PPO kl_coef={kl_coef:g}"
        _, history, curve, last = run_ppo(config, s, rm, kl_coef, steps, label=label,
                                          lr=config.sweep_ppo_lr)
        curves.append(curve)
        samples.append(last)
        histories.append(history.assign(label=label))
    for beta in config.sweep_betas:
        _, _, curve = run_dpo(config, s, rm, pairs, beta, label=f"DPO beta={beta:g}")
        curves.append(curve)
    curve = pd.concat(curves, ignore_index=True)
    curve.to_csv(out_dir / "curves.csv", index=False)
    pd.concat(histories, ignore_index=True).to_csv(out_dir / "histories.csv", index=False)
    pd.concat(samples, ignore_index=True).to_parquet(out_dir / "samples.parquet", index=False)
    hack = curve[curve.label == f"PPO kl_coef={config.hack_kl_coef:g}"]
    best = hack.loc[hack.gold.idxmax()]
    last = hack.iloc[-1]
    return {"hack_kl_coef": config.hack_kl_coef, "hack_steps": hack_steps,
            "hack_proxy_start": round(float(hack.proxy.iloc[0]), 4),
            "hack_proxy_end": round(float(last.proxy), 4),
            "hack_gold_start": round(float(hack.gold.iloc[0]), 4),
            "hack_gold_peak": round(float(best.gold), 4), "hack_gold_peak_step": int(best.step),
            "hack_gold_end": round(float(last.gold), 4), "hack_kl_end": round(float(last.kl), 4)}


# --- loading -------------------------------------------------------------------------------------

def load_policy(name: str = "ppo_policy", artifact: artifacts.Artifact | None = None):
    """The GPT policy of a ``ppo_policy`` or ``dpo_policy`` artifact (built on demand)."""
    from safetensors.torch import load_model

    from minillm.model import GPT, GPTConfig

    if name not in ("ppo_policy", "dpo_policy"):
        raise ValueError(f"name must be 'ppo_policy' or 'dpo_policy', got {name!r}")
    artifact = artifact if artifact is not None else artifacts.get(name)
    info = json.loads(artifact.file("config.json").read_text())
    model = GPT(GPTConfig.from_dict(info["model"]))
    load_model(model, str(artifact.file("model.safetensors")), strict=True)
    return model.eval()


def load_eval_table(name: str = "ppo_policy", artifact: artifacts.Artifact | None = None):
    """One row per (model, test prompt) of a policy artifact: reply, gold, axes, proxy, KL."""
    import pandas as pd

    artifact = artifact if artifact is not None else artifacts.get(name)
    return pd.read_parquet(artifact.file("eval.parquet"))
