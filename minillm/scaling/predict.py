"""Predict a bigger run before training it, then train it and compare.

A fitted law ``L(N, D)`` says which size is compute-optimal for a budget C (``compute_optimal``).
Model shapes are discrete, so the prediction picks the shape whose N is closest (in log) to N_opt
and gives it D = C / 6N tokens. The loss it states for that run comes from one of these
``METHODS`` (the others are kept in ``Prediction.losses`` for comparison):

- ``"frontier"``: L*(C) = k C^-gamma, the training-curve envelope's slope through the largest
  budget's IsoFLOP minimum (``fits.anchored_frontier``);
- ``"isoflop"``: L*(C) = k C^-gamma through the IsoFLOP minima of every budget (approach 2);
- ``"law"``: the parametric law's L(N, D) for exactly that run (approach 3).

Which one to believe is decided inside the sweep, before the bigger run exists (``method="auto"``,
the default): ``backtest`` fits each method on the smaller budgets only and predicts the best run
of a larger budget the sweep did train (``leave_out_cases``: fit on the two smallest budgets and
predict each larger one, and fit on all but the largest and predict it); ``choose_method`` keeps
the method with the lowest mean absolute error over those cases. A sweep too small for a leave-out
case (fewer than 3 budgets, or fewer than 2 IsoFLOP valleys) falls back to ``"law"``, and
``Prediction.method`` says which was used. Training the predicted run (cached like the sweep's
runs) gives the actual loss and the error of every method.

    prediction = predict(law, result)                 # 4x the sweep's largest budget
    prediction.spec, prediction.loss, prediction.losses
    actual = run_prediction(prediction)               # {"loss", "error_pct", "errors_pct", ...}
    backtest(result, fit_budgets=(1e11, 2e11), target_budget=4e11)
    choose_method(result)                             # ("isoflop", [backtest, ...])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minillm import profiles
from minillm.scaling.fits import (
    ParametricLaw,
    anchored_frontier,
    fit_envelope,
    fit_isoflop,
    fit_parametric,
)
from minillm.scaling.sweep import RunSpec, ScalingConfig, SweepResult, make_spec

METHODS = ("frontier", "isoflop", "law")
AUTO = "auto"                 # predict's default: the method that wins the sweep's leave-out check


@dataclass(frozen=True)
class Prediction:
    flops: float              # the budget
    n_opt: float              # the law's compute-optimal N (continuous)
    d_opt: float
    spec: RunSpec             # the run that will test it (nearest shape)
    loss: float               # the stated prediction: losses[method]
    profile: str
    method: str = "law"       # which of METHODS gave ``loss``
    losses: dict = field(default_factory=dict)   # method -> predicted loss, every one available


def frontier_losses(result: SweepResult, flops: float) -> dict[str, float]:
    """L*(flops) from the frontier methods the sweep ``result`` allows ({} when it has no loss
    curves or fewer than 2 budgets with an IsoFLOP valley)."""
    runs = result.runs
    if "loss" not in runs or not result.curves:
        return {}
    try:
        isoflop = fit_isoflop(runs.budget, runs.n_params, runs.loss, n_boot=0)
    except ValueError:
        return {}
    envelope = fit_envelope(result.envelope_curves(), n_boot=0)
    return {"frontier": float(anchored_frontier(envelope, isoflop)(flops)),
            "isoflop": float(isoflop.detail["loss"](flops))}


def predict(law: ParametricLaw, result: SweepResult | None = None, factor: float | None = None,
            config: ScalingConfig | None = None, profile: str | None = None,
            flops: float | None = None, method: str = AUTO) -> Prediction:
    """The compute-optimal run for ``factor`` x the sweep's largest budget (or for ``flops``),
    and the loss ``method`` (one of ``METHODS``, or ``"auto"``: ``choose_method``) expects of it."""
    if method not in (*METHODS, AUTO):
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join((*METHODS, AUTO))}")
    if method == AUTO:
        method = choose_method(result, config=config, profile=profile)[0] if result is not None else "law"
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
    losses = {**(frontier_losses(result, flops) if result is not None else {}),
              "law": float(law.loss(spec.n_params, spec.tokens))}
    method = method if method in losses else "law"
    return Prediction(float(flops), float(n_opt), float(d_opt), spec, losses[method], profile, method, losses)


def run_prediction(prediction: Prediction, progress: bool = True) -> dict:
    """Train (or read from the sweep cache) the predicted run; compare its loss with the stated
    prediction (``error_pct``) and with every method's (``errors_pct``)."""
    from minillm.scaling.sweep import cache_dir, run_sweep, sweep_data

    config = profiles.stage_config("scaling", prediction.profile)
    train, val, _, data_key = sweep_data(prediction.profile)
    result = run_sweep([prediction.spec], train, val, cache_dir(prediction.profile), data_key,
                       config.eval_batches, progress=progress)
    row = result.runs.iloc[0]
    actual = float(row.loss)
    return {"predicted_loss": prediction.loss, "actual_loss": actual, "method": prediction.method,
            "error_pct": 100 * (prediction.loss - actual) / actual,
            "errors_pct": {m: 100 * (loss - actual) / actual for m, loss in prediction.losses.items()},
            "train_loss": float(row.train_loss), "n_params": int(row.n_params),
            "tokens": int(row.tokens), "flops": float(row.flops),
            "seconds": float(row.seconds), "cached": bool(row.cached), "curve": result.curves[row.key]}


def backtest(result: SweepResult, fit_budgets, target_budget: float, config: ScalingConfig | None = None,
             profile: str | None = None) -> dict:
    """A leave-out check inside the sweep: fit the law and the frontiers on the runs of
    ``fit_budgets`` only, predict the compute-optimal run at ``target_budget`` (a budget of the
    sweep), and compare every method's loss with the best run the sweep trained there."""
    runs = result.runs
    fit_budgets = sorted(float(b) for b in fit_budgets)
    if target_budget <= max(fit_budgets):
        raise ValueError("backtest predicts a larger budget than it fits on")
    best = float(runs.loss[runs.budget == target_budget].min())
    if not np.isfinite(best):
        raise ValueError(f"the sweep has no run at budget {target_budget:.3g}")
    subset = SweepResult(runs[runs.budget.isin(fit_budgets)].reset_index(drop=True), result.curves)
    law = fit_parametric(subset.runs.n_params, subset.runs.tokens, subset.runs.loss)
    prediction = predict(law, subset, config=config, profile=profile, flops=target_budget,
                         method="law")          # every method's loss is in .losses
    return {"fit on": fit_budgets, "target": float(target_budget), "best actual": float(best),
            "losses": prediction.losses,
            "errors_pct": {m: 100 * (loss - best) / best for m, loss in prediction.losses.items()}}


def leave_out_cases(budgets) -> list[tuple[list[float], float]]:
    """(fit budgets, target budget) pairs for ``backtest``: fit on the two smallest budgets and
    predict each larger one, and fit on all but the largest and predict it (no duplicates)."""
    budgets = sorted({float(b) for b in budgets})
    cases = [(budgets[:2], target) for target in budgets[2:]]
    if len(budgets) > 3:
        cases.append((budgets[:-1], budgets[-1]))
    return cases


def choose_method(result: SweepResult, config: ScalingConfig | None = None,
                  profile: str | None = None) -> tuple[str, list[dict]]:
    """The method with the lowest mean absolute leave-out error over ``leave_out_cases`` (only
    methods defined in every case compete), and the backtests behind the choice. ``"law"``
    when the sweep allows no leave-out case."""
    checks = [backtest(result, fit_on, target, config=config, profile=profile)
              for fit_on, target in leave_out_cases(result.runs.budget)]
    scores = {m: float(np.mean([abs(c["errors_pct"][m]) for c in checks])) for m in METHODS
              if checks and all(m in c["errors_pct"] for c in checks)}
    return (min(scores, key=scores.get) if scores else "law"), checks
