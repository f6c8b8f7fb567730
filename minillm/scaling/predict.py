"""Predict a bigger run before training it, then train it and compare.

A fitted law ``L(N, D)`` says which size is compute-optimal for a budget C (``compute_optimal``).
Model shapes are discrete, so the prediction picks the shape whose N is closest (in log) to N_opt,
gives it D = C / 6N tokens, and states the loss the law expects for exactly that (N, D). Training
that run (cached like the sweep's runs) gives the actual loss and the prediction error.

    prediction = predict(law, result)                 # 4x the sweep's largest budget
    prediction.spec, prediction.loss
    actual = run_prediction(prediction)               # {"loss", "error_pct", ...}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minillm import profiles
from minillm.scaling.fits import ParametricLaw
from minillm.scaling.sweep import RunSpec, ScalingConfig, SweepResult, make_spec


@dataclass(frozen=True)
class Prediction:
    flops: float              # the budget
    n_opt: float              # the law's compute-optimal N (continuous)
    d_opt: float
    spec: RunSpec             # the run that will test it (nearest shape)
    loss: float               # the law's loss for spec's (N, D)
    profile: str


def predict(law: ParametricLaw, result: SweepResult | None = None, factor: float | None = None,
            config: ScalingConfig | None = None, profile: str | None = None,
            flops: float | None = None) -> Prediction:
    """The compute-optimal run for ``factor`` x the sweep's largest budget (or for ``flops``)."""
    profile = profile or profiles.active_profile()
    config = config or profiles.stage_config("scaling", profile)
    if flops is None:
        largest = float(result.runs.budget.max()) if result is not None else max(config.budgets)
        flops = largest * (factor or config.prediction_factor)
    if flops <= 0:
        raise ValueError(f"the budget must be > 0 FLOPs, got {flops}")
    vocab = int(result.runs.vocab_size.iloc[0]) if result is not None else None
    if vocab is None:
        from minillm.scaling.sweep import sweep_data

        vocab = sweep_data(profile)[2]
    n_opt, d_opt = law.compute_optimal(flops)
    candidates = [make_spec(shape, flops, config, vocab) for shape in (*config.shapes, *config.extra_shapes)]
    spec = min(candidates, key=lambda s: abs(np.log(s.n_params) - np.log(n_opt)))
    return Prediction(float(flops), float(n_opt), float(d_opt), spec,
                      float(law.loss(spec.n_params, spec.tokens)), profile)


def run_prediction(prediction: Prediction, progress: bool = True) -> dict:
    """Train (or read from the sweep cache) the predicted run; compare its loss with the law's."""
    from minillm.scaling.sweep import cache_dir, run_sweep, sweep_data

    config = profiles.stage_config("scaling", prediction.profile)
    train, val, _, data_key = sweep_data(prediction.profile)
    result = run_sweep([prediction.spec], train, val, cache_dir(prediction.profile), data_key,
                       config.eval_batches, progress=progress)
    row = result.runs.iloc[0]
    actual = float(row.loss)
    return {"predicted_loss": prediction.loss, "actual_loss": actual,
            "error_pct": 100 * (prediction.loss - actual) / actual, "n_params": int(row.n_params),
            "tokens": int(row.tokens), "flops": float(row.flops), "seconds": float(row.seconds),
            "cached": bool(row.cached), "curve": result.curves[row.key]}
