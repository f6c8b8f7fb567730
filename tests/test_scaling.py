"""Scaling laws: FLOP accounting, the three Chinchilla fits on synthetic laws, sweep caching."""

import json

import numpy as np
import pytest
import torch

from minillm import compute, scaling
from minillm.model import GPT, GPTConfig
from minillm.train import Callback

TRUE_LAW = scaling.ParametricLaw(E=1.8, A=300.0, B=500.0, alpha=0.35, beta=0.30)


# --- compute accounting ------------------------------------------------------------------------

def tiny_config(**kw):
    base = dict(vocab_size=64, context_length=8, n_layer=1, n_head=2, n_embd=16, mlp_hidden=32)
    return GPTConfig.modern(**{**base, **kw})


def test_flops_match_a_hand_count():
    cfg = tiny_config()
    d, h, V, T, L = 16, 32, 64, 8, 1
    matmul_params = L * (4 * d * d + 3 * d * h) + V * d       # q,k,v,o + SwiGLU's 3 + tied head
    norm_gains = L * 2 * d + d                                 # 6N counts every weight, these too
    assert matmul_params + norm_gains == 3632
    forward = 2 * (matmul_params + norm_gains) + L * 2 * (2 * T * d)   # + q k^T and weights @ v
    assert compute.flops_per_token(cfg) == 3 * forward == 23328
    assert scaling.config_training_flops(cfg, 1000) == 23328 * 1000
    assert scaling.training_flops(3584, 1000) == 6 * 3584 * 1000


def test_flops_match_an_empirical_count():
    from torch.utils.flop_counter import FlopCounterMode

    cfg = tiny_config(n_layer=2, n_embd=32, n_head=2, mlp_hidden=64, context_length=16, attention="manual")
    torch.manual_seed(0)
    model = GPT(cfg)
    x = torch.randint(0, cfg.vocab_size, (2, cfg.context_length))
    with FlopCounterMode(display=False) as counter:
        _, loss = model(x, targets=x)
        loss.backward()
    per_token = counter.get_total_flops() / x.numel()
    assert per_token == pytest.approx(compute.flops_per_token(cfg), rel=0.01)


def test_gpu_time_and_budget_accounting():
    gpt3 = scaling.training_flops(scaling.GPT3["params"], scaling.GPT3["tokens"])
    assert gpt3 == pytest.approx(3.15e23)
    seconds = scaling.training_seconds(gpt3, "A100", mfu=0.5)
    assert seconds == pytest.approx(gpt3 / (312e12 * 0.5))
    assert scaling.gpt3_days("A100", mfu=0.5, n_gpus=1000) == pytest.approx(seconds / 86400 / 1000)
    plan = scaling.plan_budget("H100", hours=10, mfu=0.4)
    assert plan["flops"] == pytest.approx(10 * 3600 * 989e12 * 0.4)
    for kind in ("law", "20 tok/param"):
        assert 6 * plan[f"params ({kind})"] * plan[f"tokens ({kind})"] == pytest.approx(plan["flops"])
    assert plan["tokens (20 tok/param)"] / plan["params (20 tok/param)"] == pytest.approx(20)
    with pytest.raises(ValueError, match="unknown GPU"):
        scaling.training_seconds(1e20, "Z9000")
    with pytest.raises(ValueError, match="mfu"):
        scaling.plan_budget("A100", hours=1, mfu=1.5)


# --- fits on data from a known law -----------------------------------------------------------

def test_power_law_recovers_exponent():
    x = np.geomspace(1e3, 1e9, 10)
    law = scaling.fit_power_law(x, 7.0 * x**-0.3)
    assert law.exponent == pytest.approx(-0.3, abs=1e-9) and law.coef == pytest.approx(7.0)
    with pytest.raises(ValueError, match="> 0"):
        scaling.fit_power_law([1, 2], [1, -1])


def test_compute_optimal_is_the_minimum_at_fixed_flops():
    flops = 1e21
    n_opt, d_opt = TRUE_LAW.compute_optimal(flops)
    assert 6 * n_opt * d_opt == pytest.approx(flops)
    n = n_opt * np.array([0.5, 0.9, 1.0, 1.1, 2.0])
    losses = TRUE_LAW.loss(n, flops / (6 * n))
    assert np.argmin(losses) == 2
    # symmetric law (alpha = beta, A = B): N_opt = D_opt = sqrt(C / 6)
    symmetric = scaling.ParametricLaw(E=1.0, A=100.0, B=100.0, alpha=0.3, beta=0.3)
    n_s, d_s = symmetric.compute_optimal(6e20)
    assert n_s == pytest.approx(1e10) and d_s == pytest.approx(1e10)


def test_parametric_fit_recovers_the_law():
    rng = np.random.default_rng(0)
    n, d = np.meshgrid(np.geomspace(1e6, 1e9, 6), np.geomspace(1e8, 1e11, 6))
    loss = TRUE_LAW.loss(n, d) * np.exp(rng.normal(0, 0.002, n.shape))
    fit = scaling.fit_parametric_ci(n.ravel(), d.ravel(), loss.ravel(), n_boot=10)
    assert fit.value["alpha"] == pytest.approx(0.35, abs=0.03)
    assert fit.value["beta"] == pytest.approx(0.30, abs=0.03)
    assert fit.value["E"] == pytest.approx(1.8, abs=0.1)
    assert fit.value["a"] == pytest.approx(TRUE_LAW.a, abs=0.02)
    lo, hi = fit.ci["alpha"]
    assert lo <= fit.value["alpha"] <= hi and hi - lo < 0.1


def isoflop_runs(budgets, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for c in budgets:
        n_opt, _ = TRUE_LAW.compute_optimal(c)
        for n in n_opt * np.geomspace(1 / 4, 4, 7):
            rows.append((c, n, TRUE_LAW.loss(n, c / (6 * n)) * np.exp(rng.normal(0, noise))))
    return np.array(rows).T


def test_isoflop_fit_recovers_the_exponent():
    budgets, n, loss = isoflop_runs(np.geomspace(1e18, 1e21, 4), noise=0.002)
    fit = scaling.fit_isoflop(budgets, n, loss, n_boot=50)
    assert fit.value["a"] == pytest.approx(TRUE_LAW.a, abs=0.03)
    assert fit.value["b"] == pytest.approx(1 - fit.value["a"])
    lo, hi = fit.ci["a"]
    assert lo <= fit.value["a"] <= hi
    true_n = TRUE_LAW.compute_optimal(fit.detail["budgets"])[0]
    np.testing.assert_allclose(fit.detail["n_opt"], true_n, rtol=0.15)


def test_isoflop_needs_a_valley():
    with pytest.raises(ValueError, match="3 distinct sizes"):
        scaling.isoflop_minimum([1e6, 1e6, 2e6], [3.0, 2.9, 2.8])
    with pytest.raises(ValueError, match="no valley"):
        scaling.isoflop_minimum([1e6, 2e6, 4e6], [3.0, 3.5, 3.0])


def test_envelope_fit_recovers_the_exponent():
    curves = []
    for n in np.geomspace(1e6, 1e9, 16):
        d = np.geomspace(1e7, 1e12, 60)
        curves.append({"n_params": n, "flops": 6 * n * d, "loss": TRUE_LAW.loss(n, d)})
    fit = scaling.fit_envelope(curves, n_points=30, n_boot=20)
    assert fit.value["a"] == pytest.approx(TRUE_LAW.a, abs=0.05)
    front = fit.detail["frontier"]
    assert np.all(np.diff(front["loss"]) <= 1e-12)          # more compute never hurts the frontier
    assert fit.value["alpha_C"] > 0


# --- the sweep: caching and resumption -----------------------------------------------------------

CONFIG = scaling.ScalingConfig(shapes=((1, 16), (1, 32)), budgets=(1.5e7, 3e7), context_length=16,
                               batch_size=4, lr=3e-3, eval_batches=1, min_steps=2)


@pytest.fixture
def tokens():
    rng = np.random.default_rng(0)
    # a learnable stream: a noisy cycle over 64 ids
    stream = (np.arange(6000) * 7 + rng.integers(0, 3, 6000)) % 64
    return stream[:5000].astype(np.uint16), stream[5000:].astype(np.uint16)


def test_plan_sweep_spends_each_budget():
    specs = scaling.plan_sweep(CONFIG, vocab_size=64)
    assert len(specs) == 4
    for s in specs:
        assert s.flops == pytest.approx(s.budget, rel=0.25)
        assert s.warmup_steps >= 1 and s.steps >= CONFIG.min_steps
    assert len({s.key() for s in specs}) == 4 and specs[0].key("a") != specs[0].key("b")


def test_plan_sweep_keeps_the_tokens_per_param_window():
    from dataclasses import replace

    shapes = ((1, 8), (1, 16), (1, 32), (2, 48), (2, 64))
    wide = replace(CONFIG, shapes=shapes, budgets=(1e9, 4e9), min_steps=1)
    narrow = replace(wide, tokens_per_param=(0.5, 10.0))
    every, kept = scaling.plan_sweep(wide, vocab_size=64), scaling.plan_sweep(narrow, vocab_size=64)
    assert len(every) == 10 and 0 < len(kept) < len(every)
    assert all(0.5 <= s.tokens / s.n_params <= 10.0 for s in kept)
    assert {s.key() for s in kept} == {s.key() for s in every if 0.5 <= s.tokens / s.n_params <= 10.0}
    # the window slides to bigger models as the budget grows
    sizes = {c: [s.n_params for s in kept if s.budget == c] for c in wide.budgets}
    assert len(sizes[1e9]) == 2 and min(sizes[4e9]) > min(sizes[1e9])
    with pytest.raises(ValueError, match="min_steps"):
        scaling.plan_sweep(replace(wide, tokens_per_param=(1e6, 1e7)), vocab_size=64)


class StopAt(Callback):
    """Interrupt the sweep during its ``run``-th training run (like a killed kernel)."""

    def __init__(self, run: int):
        self.run, self.starts = run, 0

    def on_step(self, trainer, row):
        if row["step"] == 1:
            self.starts += 1
        if self.starts == self.run and row["step"] == 2:
            raise KeyboardInterrupt


def test_sweep_caches_and_resumes(tmp_path, tokens):
    train, val = tokens
    specs = scaling.plan_sweep(CONFIG, vocab_size=64)
    with pytest.raises(KeyboardInterrupt):
        scaling.run_sweep(specs, train, val, tmp_path, "data", eval_batches=1, callbacks=[StopAt(3)],
                          progress=False, log=None)
    cache = scaling.RunCache(tmp_path)
    done = cache.keys()
    assert done == sorted(s.key("data", 1) for s in specs[:2])       # finished runs are kept
    stamps = {k: (tmp_path / k / "run.json").stat().st_mtime_ns for k in done}

    resumed = scaling.run_sweep(specs, train, val, tmp_path, "data", eval_batches=1, progress=False, log=None)
    assert resumed.trained == [s.key("data", 1) for s in specs[2:]]    # only the rest is trained
    assert {k: (tmp_path / k / "run.json").stat().st_mtime_ns for k in done} == stamps
    assert not list(tmp_path.glob(".tmp-*"))

    again = scaling.run_sweep(specs, train, val, tmp_path, "data", eval_batches=1, progress=False, log=None)
    assert again.trained == [] and again.runs.cached.all()
    # scoring on more validation text is another measurement: nothing stale is read back
    assert specs[0].key("data", 2) != specs[0].key("data", 1)
    assert again.runs.loss.tolist() == resumed.runs.loss.tolist()
    row = again.runs.iloc[0]
    assert row.tokens == len(again.curves[row.key]) * CONFIG.batch_size * CONFIG.context_length
    assert np.all(np.isfinite(again.runs.loss)) and again.runs.loss.max() < np.log(64) + 0.5


def test_sweep_is_deterministic(tmp_path, tokens):
    train, val = tokens
    spec = scaling.plan_sweep(CONFIG, vocab_size=64)[0]
    first = scaling.run_sweep([spec], train, val, tmp_path / "a", eval_batches=1, progress=False, log=None)
    second = scaling.run_sweep([spec], train, val, tmp_path / "b", eval_batches=1, progress=False, log=None)
    key = spec.key(eval_batches=1)
    assert (tmp_path / "a" / key / "curve.csv").read_bytes() == (tmp_path / "b" / key / "curve.csv").read_bytes()
    assert json.loads((tmp_path / "a" / key / "run.json").read_text())["loss"] == second.runs.loss.iloc[0]
    assert first.trained == [key]


def test_predict_picks_the_nearest_shape():
    import pandas as pd

    runs = pd.DataFrame({"budget": [8e6], "vocab_size": [64]})
    result = scaling.SweepResult(runs)
    prediction = scaling.predict(TRUE_LAW, result, factor=4, config=CONFIG, profile="smoke")
    assert prediction.flops == 3.2e7
    sizes = [scaling.make_spec(s, 3.2e7, CONFIG, 64).n_params for s in CONFIG.shapes]
    nearest = min(sizes, key=lambda n: abs(np.log(n) - np.log(prediction.n_opt)))
    assert prediction.spec.n_params == nearest
    assert prediction.loss == pytest.approx(float(TRUE_LAW.loss(prediction.spec.n_params, prediction.spec.tokens)))


# --- the loss frontier L*(C) and what the prediction states ------------------------------------

# without an irreducible term the compute-optimal loss is exactly a power law:
# L*(C) = k C^-gamma with gamma = alpha beta / (alpha + beta)
NO_FLOOR = scaling.ParametricLaw(E=0.0, A=300.0, B=500.0, alpha=0.35, beta=0.30)
GAMMA = NO_FLOOR.alpha * NO_FLOOR.beta / (NO_FLOOR.alpha + NO_FLOOR.beta)


def best_loss(law, flops):
    return float(law.loss(*law.compute_optimal(flops)))


def synthetic_sweep(law, budgets, noise=0.0, seed=0):
    """A SweepResult whose runs (7 sizes around each budget's optimum) and training curves
    follow ``law``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows, curves = [], {}
    for c in budgets:
        n_opt, _ = law.compute_optimal(c)
        for n in n_opt * np.geomspace(1 / 4, 4, 7):
            key = f"{c:.3g}-{n:.0f}"
            d = np.geomspace(c / (6 * n) / 10, c / (6 * n), 50)
            loss = law.loss(n, d) * np.exp(rng.normal(0, noise, len(d)))
            curves[key] = pd.DataFrame({"flops": 6 * n * d, "loss": loss})
            rows.append({"key": key, "budget": c, "n_params": n, "tokens": d[-1], "flops": c,
                         "loss": loss[-1], "vocab_size": 64})
    return scaling.SweepResult(pd.DataFrame(rows), curves)


def test_loss_frontiers_recover_the_exponent():
    budgets = np.geomspace(1e18, 1e21, 4)
    result = synthetic_sweep(NO_FLOOR, budgets, noise=0.002)
    runs = result.runs
    isoflop = scaling.fit_isoflop(runs.budget, runs.n_params, runs.loss, n_boot=0)
    envelope = scaling.fit_envelope(result.envelope_curves(), n_boot=0)
    assert -isoflop.detail["loss"].exponent == pytest.approx(GAMMA, abs=0.01)
    assert -envelope.detail["loss"].exponent == pytest.approx(GAMMA, abs=0.01)
    assert envelope.value["alpha_C"] == -envelope.detail["loss"].exponent
    anchored = scaling.anchored_frontier(envelope, isoflop)
    assert anchored.exponent == envelope.detail["loss"].exponent
    # it goes through the largest budget's IsoFLOP minimum ...
    assert anchored(budgets[-1]) == pytest.approx(isoflop.detail["loss_opt"][-1])
    # ... and extrapolates 4x past the sweep
    for law in (anchored, isoflop.detail["loss"]):
        assert law(4 * budgets[-1]) == pytest.approx(best_loss(NO_FLOOR, 4 * budgets[-1]), rel=0.01)


def test_anchored_frontier_keeps_the_validation_level():
    # train loss below the validation loss by a constant factor: the slope is the same,
    # the level must come from the (validation) IsoFLOP minima
    budgets = np.geomspace(1e18, 1e21, 4)
    result = synthetic_sweep(NO_FLOOR, budgets)
    train = scaling.SweepResult(result.runs, {k: c.assign(loss=0.8 * c["loss"]) for k, c in result.curves.items()})
    envelope = scaling.fit_envelope(train.envelope_curves(), n_boot=0)
    isoflop = scaling.fit_isoflop(result.runs.budget, result.runs.n_params, result.runs.loss, n_boot=0)
    assert envelope.detail["loss"](1e21) < 0.85 * best_loss(NO_FLOOR, 1e21)
    assert scaling.anchored_frontier(envelope, isoflop)(4e21) == pytest.approx(best_loss(NO_FLOOR, 4e21), rel=0.01)


def prediction_config():
    from dataclasses import replace

    return replace(CONFIG, shapes=((1, 16), (1, 32), (2, 48), (2, 64)), budgets=(1e18, 1e21))


def test_predict_states_the_chosen_method():
    result = synthetic_sweep(NO_FLOOR, np.geomspace(1e18, 1e21, 4))
    config = prediction_config()
    prediction = scaling.predict(NO_FLOOR, result, factor=4, config=config, profile="smoke")
    chosen, _ = scaling.choose_method(result, config=config, profile="smoke")
    assert prediction.flops == pytest.approx(4e21) and prediction.method == chosen    # "auto"
    assert set(prediction.losses) == set(scaling.METHODS)
    assert prediction.loss == prediction.losses[chosen]
    spec = prediction.spec
    assert prediction.losses["law"] == pytest.approx(float(NO_FLOOR.loss(spec.n_params, spec.tokens)))
    assert prediction.losses["isoflop"] == pytest.approx(best_loss(NO_FLOOR, 4e21), rel=0.01)
    for method in scaling.METHODS:
        chosen = scaling.predict(NO_FLOOR, result, factor=4, config=config, profile="smoke", method=method)
        assert chosen.method == method and chosen.loss == prediction.losses[method]
        assert chosen.spec == spec                   # the method changes the loss, not the run
    with pytest.raises(ValueError, match="unknown method"):
        scaling.predict(NO_FLOOR, result, config=config, profile="smoke", method="guess")


def test_predict_falls_back_to_the_law_without_a_frontier():
    import pandas as pd

    config = prediction_config()
    bare = scaling.SweepResult(pd.DataFrame({"budget": [1e21], "vocab_size": [64]}))
    prediction = scaling.predict(NO_FLOOR, bare, config=config, profile="smoke")
    assert prediction.method == "law" and set(prediction.losses) == {"law"}
    # one budget has no IsoFLOP law through 2 valleys: the law again
    one = synthetic_sweep(NO_FLOOR, [1e21])
    prediction = scaling.predict(NO_FLOOR, one, config=config, profile="smoke", method="isoflop")
    assert prediction.method == "law" and prediction.loss == prediction.losses["law"]


def test_leave_out_cases_fit_on_smaller_budgets_only():
    b = [1e18, 1e19, 1e20, 1e21]
    assert scaling.leave_out_cases(b[::-1]) == [(b[:2], b[2]), (b[:2], b[3]), (b[:3], b[3])]
    assert scaling.leave_out_cases(b[:3]) == [(b[:2], b[2])]
    assert scaling.leave_out_cases(b[:2]) == []


def test_choose_method_keeps_the_lowest_leave_out_error():
    budgets = np.geomspace(1e18, 1e21, 4)
    result = synthetic_sweep(NO_FLOOR, budgets, noise=0.001)
    # training curves that fall too steeply: the envelope's slope (the "frontier" method) is wrong
    steep = scaling.SweepResult(result.runs, {k: c.assign(loss=c["loss"] ** 1.5)
                                              for k, c in result.curves.items()})
    method, checks = scaling.choose_method(steep, config=prediction_config(), profile="smoke")
    assert [(c["fit on"], c["target"]) for c in checks] == scaling.leave_out_cases(budgets)
    mean_error = {m: np.mean([abs(c["errors_pct"][m]) for c in checks]) for m in scaling.METHODS}
    assert method == min(mean_error, key=mean_error.get) and method != "frontier"
    assert mean_error["frontier"] > 5 > mean_error[method]
    prediction = scaling.predict(NO_FLOOR, steep, factor=4, config=prediction_config(), profile="smoke")
    assert prediction.method == method
    # two budgets leave nothing to check against: the parametric law
    two = synthetic_sweep(NO_FLOOR, budgets[:2])
    assert scaling.choose_method(two, config=prediction_config(), profile="smoke") == ("law", [])


def test_backtest_predicts_a_budget_of_the_sweep():
    budgets = np.geomspace(1e18, 1e21, 4)
    result = synthetic_sweep(NO_FLOOR, budgets, noise=0.001)
    check = scaling.backtest(result, budgets[:3], budgets[3], config=prediction_config(), profile="smoke")
    best = result.runs.loss[result.runs.budget == budgets[3]].min()
    assert check["best actual"] == best and check["fit on"] == sorted(budgets[:3])
    assert set(check["losses"]) == set(check["errors_pct"]) == set(scaling.METHODS)
    for method in ("frontier", "isoflop"):
        assert check["errors_pct"][method] == pytest.approx(100 * (check["losses"][method] - best) / best)
        assert abs(check["errors_pct"][method]) < 2
    with pytest.raises(ValueError, match="larger budget"):
        scaling.backtest(result, budgets, budgets[2])
