"""Fitting scaling laws: a power law, and the three approaches of Chinchilla (Hoffmann et al. 2022).

Every approach answers the same question: for a compute budget C (FLOPs, C ~ 6 N D), which model
size N and token count D give the lowest loss? Each finds that N_opt grows like C^a (and
D_opt = C / 6 N_opt like C^b, b = 1 - a):

1. **Training-curve envelope.** Put every run's loss curve on one loss-vs-FLOPs plot; at each C
   the lowest curve is the best model for that C. Fit N_opt(C) along that frontier.
2. **IsoFLOP profiles.** Train several sizes at each fixed budget; the final loss against log N
   is a valley. A parabola's vertex gives N_opt for that budget.
3. **Parametric loss.** Fit L(N, D) = E + A / N^alpha + B / D^beta to every run (Huber loss on
   log-residuals, many starts, as Hoffmann et al.); minimising it under C = 6 N D gives
   N_opt = G (C/6)^(beta/(alpha+beta)).

Confidence intervals come from the bootstrap: resample runs with replacement, refit, take the
2.5% and 97.5% quantiles.

The loss of the compute-optimal run also falls as a power law along the frontier,
L*(C) = k C^-gamma (Kaplan et al.'s L(C_min)). Approaches 1 and 2 each give one:
``fit_envelope`` along the training curves (train loss, many points) and ``fit_isoflop`` through the
parabola minima (final validation loss, one point per budget). ``anchored_frontier`` combines them:
the envelope's slope gamma through the largest budget's IsoFLOP minimum. An irreducible term
E + k C^-gamma is not identifiable from a few budgets in the early, fast phase of training (on
the ``cpu`` sweep the best fit puts E at 0), so these laws have none: like the parametric law,
they cannot know where the curve will bend.

    law = fit_parametric(runs.n_params, runs.tokens, runs.loss)
    n_opt, d_opt = law.compute_optimal(4 * 6e12)
    law.loss(n_opt, d_opt)
    anchored_frontier(fit_envelope(curves), fit_isoflop(budgets, n_params, loss))(4 * 6e12)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PowerLaw:
    """y = coef * x^exponent (a straight line on log-log axes)."""
    coef: float
    exponent: float

    def __call__(self, x):
        return self.coef * np.asarray(x, dtype=float) ** self.exponent


def fit_power_law(x, y) -> PowerLaw:
    """Least squares of log y on log x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"a power law needs at least 2 (x, y) pairs of equal length, got {len(x)}, {len(y)}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("a power law is fitted in log space: every x and y must be > 0")
    if np.ptp(np.log(x)) == 0:
        return PowerLaw(float(np.exp(np.mean(np.log(y)))), 0.0)
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return PowerLaw(float(np.exp(intercept)), float(slope))


@dataclass(frozen=True)
class ParametricLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta."""
    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, n_params, n_tokens):
        n, d = np.asarray(n_params, dtype=float), np.asarray(n_tokens, dtype=float)
        return self.E + self.A / n**self.alpha + self.B / d**self.beta

    @property
    def a(self) -> float:
        """N_opt grows like C^a."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """D_opt grows like C^b."""
        return self.alpha / (self.alpha + self.beta)

    def compute_optimal(self, flops) -> tuple[np.ndarray | float, np.ndarray | float]:
        """(N_opt, D_opt) minimising the loss at C = 6 N D."""
        g = (self.alpha * self.A / (self.beta * self.B)) ** (1 / (self.alpha + self.beta))
        c6 = np.asarray(flops, dtype=float) / 6
        return g * c6**self.a, c6**self.b / g


# Hoffmann et al. (2022), eq. (10) and Table 2: N_opt ~ C^a, D_opt ~ C^b, (10%, 90%) intervals.
CHINCHILLA_LAW = ParametricLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
PUBLISHED_EXPONENTS = {
    "Chinchilla approach 1": {"a": 0.50, "a_ci": (0.488, 0.502), "b": 0.50, "b_ci": (0.501, 0.512)},
    "Chinchilla approach 2": {"a": 0.49, "a_ci": (0.462, 0.534), "b": 0.51, "b_ci": (0.483, 0.529)},
    "Chinchilla approach 3": {"a": 0.46, "a_ci": (0.454, 0.455), "b": 0.54, "b_ci": (0.542, 0.543)},
    "Kaplan et al. (2020)": {"a": 0.73, "a_ci": None, "b": 0.27, "b_ci": None},
}
# Kaplan et al. (2020): L(N) ~ N^-0.076, L(D) ~ D^-0.095, L(C_min) ~ C^-0.050
KAPLAN_EXPONENTS = {"alpha_N": 0.076, "alpha_D": 0.095, "alpha_C": 0.050}


# --- bootstrap -------------------------------------------------------------------------------

@dataclass
class Fit:
    """An estimate, its bootstrap interval (2.5%, 97.5%) and the fitted object behind it."""
    value: dict
    ci: dict = field(default_factory=dict)
    detail: object = None

    def table(self) -> dict:
        return {k: (v, *self.ci.get(k, (np.nan, np.nan))) for k, v in self.value.items()}


def bootstrap(fit_fn: Callable[[np.ndarray], dict], n_items: int, n_boot: int = 200, seed: int = 0,
              groups=None) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of ``fit_fn(indices)`` over ``n_boot`` resamples of the items
    (within each group when ``groups`` is given). Resamples on which the fit fails are skipped."""
    rng = np.random.default_rng(seed)
    groups = np.zeros(n_items, dtype=int) if groups is None else np.asarray(groups)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    samples: dict[str, list[float]] = {}
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in members])
        try:
            out = fit_fn(np.sort(idx))
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        for k, v in out.items():
            if np.isfinite(v):
                samples.setdefault(k, []).append(float(v))
    return {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in samples.items()}


# --- approach 1: the envelope of training curves ---------------------------------------------

def frontier(curves: list[dict], n_points: int = 40) -> dict[str, np.ndarray]:
    """The lowest loss reached at each compute C over all training ``curves`` (each a dict with
    ``n_params``, ``flops`` and ``loss`` arrays), interpolated on a log grid of C, with the
    size of the run that reached it."""
    if not curves:
        raise ValueError("frontier needs at least one training curve")
    lo = min(float(np.min(c["flops"])) for c in curves)
    ends = [float(np.max(c["flops"])) for c in curves]
    # stop where the runs of the largest budget end: past the shortest of them, one lone curve
    # would be "the frontier" however bad it is
    hi = min(e for e in ends if e >= 0.9 * max(ends))
    grid = np.geomspace(lo, hi, n_points)
    best = np.full(n_points, np.inf)
    best_n = np.full(n_points, np.nan)
    for c in curves:
        f, loss = np.asarray(c["flops"], dtype=float), np.asarray(c["loss"], dtype=float)
        inside = (grid >= f.min()) & (grid <= f.max())
        at = np.interp(np.log(grid[inside]), np.log(f), loss)
        better = at < best[inside]
        where = np.flatnonzero(inside)[better]
        best[where], best_n[where] = at[better], c["n_params"]
    keep = np.isfinite(best)
    return {"flops": grid[keep], "loss": best[keep], "n_params": best_n[keep],
            "tokens": grid[keep] / (6 * best_n[keep])}


def fit_envelope(curves: list[dict], n_points: int = 40, n_boot: int = 200, seed: int = 0) -> Fit:
    """Approach 1: N_opt ~ C^a along the frontier, plus the frontier's L(C) power law."""

    def fit(idx) -> dict:
        front = frontier([curves[i] for i in np.unique(idx)], n_points)
        n_law = fit_power_law(front["flops"], front["n_params"])
        loss_law = fit_power_law(front["flops"], front["loss"])
        return {"a": n_law.exponent, "b": 1 - n_law.exponent, "alpha_C": -loss_law.exponent}

    value = fit(np.arange(len(curves)))
    front = frontier(curves, n_points)
    detail = {"frontier": front, "n_opt": fit_power_law(front["flops"], front["n_params"]),
              "loss": fit_power_law(front["flops"], front["loss"])}
    return Fit(value, bootstrap(fit, len(curves), n_boot, seed), detail)


# --- approach 2: IsoFLOP parabolas -----------------------------------------------------------

def isoflop_minimum(n_params, loss) -> tuple[float, float, np.ndarray]:
    """(N_opt, loss at N_opt, parabola coefficients) of a parabola in log N through one budget's
    runs. Needs 3 distinct sizes and an upward-opening parabola."""
    x, y = np.log(np.asarray(n_params, dtype=float)), np.asarray(loss, dtype=float)
    if len(np.unique(x)) < 3:
        raise ValueError(f"an IsoFLOP parabola needs runs of at least 3 distinct sizes, got {len(np.unique(x))}")
    coeffs = np.polyfit(x, y, 2)
    if coeffs[0] <= 0:
        raise ValueError("the IsoFLOP profile has no valley (parabola opens downwards): add sizes "
                         "on both sides of the optimum")
    x_opt = -coeffs[1] / (2 * coeffs[0])
    return float(np.exp(x_opt)), float(np.polyval(coeffs, x_opt)), coeffs


def fit_isoflop(budgets, n_params, loss, n_boot: int = 200, seed: int = 0) -> Fit:
    """Approach 2: a parabola per budget, then N_opt ~ C^a through the vertices."""
    budgets, n_params, loss = (np.asarray(v, dtype=float) for v in (budgets, n_params, loss))

    def optima(idx):
        rows = []
        for c in np.unique(budgets[idx]):
            sel = idx[budgets[idx] == c]
            try:
                n_opt, l_opt, coeffs = isoflop_minimum(n_params[sel], loss[sel])
            except ValueError:
                continue
            rows.append((c, n_opt, l_opt, coeffs))
        if len(rows) < 2:
            raise ValueError("approach 2 needs a valley at 2 or more budgets")
        return rows

    def fit(idx) -> dict:
        rows = optima(idx)
        law = fit_power_law([r[0] for r in rows], [r[1] for r in rows])
        return {"a": law.exponent, "b": 1 - law.exponent}

    everything = np.arange(len(loss))
    rows = optima(everything)
    law = fit_power_law([r[0] for r in rows], [r[1] for r in rows])
    detail = {"budgets": np.array([r[0] for r in rows]), "n_opt": np.array([r[1] for r in rows]),
              "loss_opt": np.array([r[2] for r in rows]), "parabolas": [r[3] for r in rows],
              "law": law,             # N_opt(C)
              "loss": fit_power_law([r[0] for r in rows], [r[2] for r in rows])}   # L*(C)
    return Fit(fit(everything), bootstrap(fit, len(loss), n_boot, seed, groups=budgets), detail)


def anchored_frontier(envelope: Fit, isoflop: Fit) -> PowerLaw:
    """L*(C) = k C^-gamma with the slope gamma of the training-curve envelope (approach 1: many
    points along C) through the IsoFLOP minimum of the largest budget that has one (approach 2).
    The envelope is read off *train* loss, which sits below the final validation loss, so only
    its slope is used; the level comes from the validation losses."""
    slope = envelope.detail["loss"].exponent
    c, loss = isoflop.detail["budgets"][-1], isoflop.detail["loss_opt"][-1]
    return PowerLaw(float(loss * c ** -slope), float(slope))


# --- approach 3: the parametric loss ---------------------------------------------------------

def _huber_objective(params, log_n, log_d, log_l, delta):
    """Mean Huber loss of log-residuals of L = exp(e) + exp(a)/N^alpha + exp(b)/D^beta, and its
    gradient (log-sum-exp keeps it stable)."""
    a, b, e, alpha, beta = params
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    weights = np.exp(terms - top)
    total = weights.sum(axis=0)
    r = top + np.log(total) - log_l
    weights /= total
    small = np.abs(r) <= delta
    value = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)).mean() / delta
    dr = np.where(small, r, delta * np.sign(r)) / delta / len(r)
    grad = np.array([(dr * weights[0]).sum(), (dr * weights[1]).sum(), (dr * weights[2]).sum(),
                     -(dr * weights[0] * log_n).sum(), -(dr * weights[1] * log_d).sum()])
    return value, grad


INIT_GRID = {"a": (0.0, 5.0, 10.0, 15.0, 20.0), "b": (0.0, 5.0, 10.0, 15.0, 20.0),
             "e": (-1.0, -0.5, 0.0, 0.5, 1.0), "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
             "beta": (0.0, 0.5, 1.0, 1.5, 2.0)}            # Hoffmann et al.'s grid, coarser


def _grid_objective(starts: np.ndarray, log_n, log_d, log_l, delta) -> np.ndarray:
    """The Huber objective at every start at once (rows of ``starts``), without gradients."""
    a, b, e, alpha, beta = (starts[:, i:i + 1] for i in range(5))
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.broadcast_to(e, (len(e), len(log_n)))])
    top = terms.max(axis=0)
    r = top + np.log(np.exp(terms - top).sum(axis=0)) - log_l
    return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)).mean(axis=1) / delta


def fit_parametric(n_params, n_tokens, loss, delta: float = 1e-3, init_grid: dict | None = None,
                   starts: list | None = None, n_polish: int = 3) -> ParametricLaw:
    """Fit L(N, D) = E + A/N^alpha + B/D^beta by minimising the Huber loss (``delta``) of
    log-residuals: the objective is evaluated on a grid of starts, and L-BFGS-B polishes the
    ``n_polish`` best of them; the best local optimum wins."""
    from scipy.optimize import minimize

    log_n, log_d, log_l = (np.log(np.asarray(v, dtype=float)) for v in (n_params, n_tokens, loss))
    if not len(log_n) == len(log_d) == len(log_l) or len(log_l) < 5:
        raise ValueError(f"the parametric fit has 5 parameters: give at least 5 runs (N, D, loss), got {len(log_l)}")
    if starts is None:
        grid = init_grid or INIT_GRID
        grid_starts = np.array(list(itertools.product(grid["a"], grid["b"], grid["e"], grid["alpha"], grid["beta"])))
        values = _grid_objective(grid_starts, log_n, log_d, log_l, delta)
        starts = grid_starts[np.argsort(values, kind="stable")[:n_polish]]
    bounds = [(-10, 40), (-10, 40), (-5, 5), (0.0, 3.0), (0.0, 3.0)]
    best = None
    for x0 in starts:
        res = minimize(_huber_objective, np.asarray(x0, dtype=float), args=(log_n, log_d, log_l, delta),
                       jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000})
        if best is None or res.fun < best.fun:
            best = res
    a, b, e, alpha, beta = best.x
    return ParametricLaw(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)),
                         alpha=float(alpha), beta=float(beta))


def _as_start(law: ParametricLaw) -> tuple:
    return (np.log(law.A), np.log(law.B), np.log(law.E), law.alpha, law.beta)


def fit_parametric_ci(n_params, n_tokens, loss, n_boot: int = 100, seed: int = 0,
                      delta: float = 1e-3) -> Fit:
    """Approach 3 with bootstrap intervals (each resample starts from the full fit, so
    it stays fast)."""
    n_params, n_tokens, loss = (np.asarray(v, dtype=float) for v in (n_params, n_tokens, loss))
    law = fit_parametric(n_params, n_tokens, loss, delta)
    few = [_as_start(law)]

    def values(fitted: ParametricLaw) -> dict:
        return {"E": fitted.E, "A": fitted.A, "B": fitted.B, "alpha": fitted.alpha,
                "beta": fitted.beta, "a": fitted.a, "b": fitted.b}

    def fit(idx) -> dict:
        return values(fit_parametric(n_params[idx], n_tokens[idx], loss[idx], delta, starts=few))

    return Fit(values(law), bootstrap(fit, len(loss), n_boot, seed), law)
