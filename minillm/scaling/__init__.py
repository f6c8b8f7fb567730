"""Scaling laws from your own runs: a cached sweep, the three Chinchilla fits, and a prediction.

Kaplan et al. (2020) found that loss falls as a power law in parameters N, tokens D and compute
C ~ 6 N D; Hoffmann et al. (2022, "Chinchilla") showed that, for a fixed C, N and D should grow
about equally (~20 tokens per parameter). This package reproduces that study at toy scale:

- ``sweep``       a grid of small GPTs (shapes x FLOP budgets), each run cached in its own folder
                  under ``artifacts/<profile>/scaling_runs/``; re-runs are instant, killed sweeps
                  resume with the runs not yet done;
- ``fits``        power laws, Chinchilla approaches 1 (curve envelope), 2 (IsoFLOP parabolas)
                  and 3 (parametric L(N, D), Huber on log-residuals), with bootstrap intervals,
                  and the loss frontier L*(C) = k C^-gamma;
- ``predict``     the compute-optimal run for a bigger budget and the loss it should reach (from
                  the frontier, the IsoFLOP minima or the parametric law: ``choose_method``
                  picks the one that wins ``backtest``, the same prediction made inside the
                  sweep from its smaller budgets);
- ``accounting``  whole-run FLOPs, hours on a GPU at a given MFU, what a GPU budget buys.

    from minillm import scaling
    result = scaling.sweep()                                   # cached after the first time
    law = scaling.fit_parametric_ci(result.runs.n_params, result.runs.tokens, result.runs.loss)
    prediction = scaling.predict(law.detail, result)           # a 4x larger budget
    actual = scaling.run_prediction(prediction)                # train it and compare
    scaling.backtest(result, fit_budgets=(1e11, 2e11), target_budget=4e11)   # check it in the sweep
"""

from minillm.scaling.accounting import (
    GPT3,
    TOKENS_PER_PARAM,
    budget_flops,
    config_training_flops,
    gpt3_days,
    plan_budget,
    rule_of_thumb_optimal,
    training_flops,
    training_seconds,
)
from minillm.scaling.fits import (
    CHINCHILLA_LAW,
    KAPLAN_EXPONENTS,
    PUBLISHED_EXPONENTS,
    Fit,
    ParametricLaw,
    PowerLaw,
    anchored_frontier,
    bootstrap,
    fit_envelope,
    fit_isoflop,
    fit_parametric,
    fit_parametric_ci,
    fit_power_law,
    frontier,
    isoflop_minimum,
)
from minillm.scaling.predict import (
    METHODS,
    Prediction,
    backtest,
    choose_method,
    frontier_losses,
    leave_out_cases,
    predict,
    run_prediction,
)
from minillm.scaling.sweep import (
    RunCache,
    RunSpec,
    ScalingConfig,
    SweepResult,
    make_spec,
    plan_sweep,
    run_sweep,
    sweep,
    train_run,
)

__all__ = [
    "CHINCHILLA_LAW", "GPT3", "KAPLAN_EXPONENTS", "METHODS", "PUBLISHED_EXPONENTS", "TOKENS_PER_PARAM",
    "Fit", "ParametricLaw", "PowerLaw", "Prediction", "RunCache", "RunSpec", "ScalingConfig",
    "SweepResult", "anchored_frontier", "backtest", "bootstrap", "budget_flops", "choose_method",
    "config_training_flops", "fit_envelope", "fit_isoflop", "fit_parametric", "fit_parametric_ci",
    "fit_power_law", "frontier", "frontier_losses", "gpt3_days",
    "isoflop_minimum", "leave_out_cases", "make_spec", "plan_budget", "plan_sweep", "predict", "rule_of_thumb_optimal",
    "run_prediction", "run_sweep", "sweep", "train_run", "training_flops", "training_seconds",
]
