"""Label preferences yourself: a prompt, two responses, and buttons A / B / tie / skip.

RLHF starts with people comparing answers. ``PreferenceLabeler`` shows one comparison at a time
in a notebook (ipywidgets) and records every click as a dict; ``frame()`` gives a DataFrame and
``preference_pairs()`` the (prompt, chosen, rejected) triples a reward model or DPO trains on.

Which response appears as "A" is decided by a seeded coin per comparison, since labellers (people
and language-model judges alike) tend to favour one position; the record says which response was
shown where. With nobody at the keyboard, ``label_with(judge_fn)`` (or ``label_headless``) fills
the choices from a scoring function, such as TinyWorld's ``GoldJudge`` via ``gold_judge_fn``.

    labeler = PreferenceLabeler([Comparison(prompt, resp1, resp2, {"example_id": ex.id}), ...])
    display(labeler.widget())                   # click away ...
    labeler.label_with(gold_judge_fn(judge, examples))  # ... or let the judge finish the rest
    labeler.frame();  labeler.preference_pairs()
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

CHOICES = ("A", "B", "tie", "skip")


@dataclass
class Comparison:
    prompt: str
    first: str
    second: str
    meta: dict = field(default_factory=dict)   # small, printable values (ids, family, ...)


class PreferenceLabeler:
    """Walks through ``comparisons`` in order; ``record(choice)`` labels the current one."""

    def __init__(self, comparisons: Sequence[Comparison], seed: int = 0):
        if len(comparisons) == 0:
            raise ValueError("give at least one Comparison(prompt, first, second) to label")
        for i, c in enumerate(comparisons):
            if not isinstance(c, Comparison):
                raise ValueError(f"item {i} is a {type(c).__name__}; wrap it as "
                                 f"Comparison(prompt, first, second)")
        self.comparisons = list(comparisons)
        # swapped[i]: show `second` as A. String seeds hash the same way in every process.
        self.swapped = [random.Random(f"labeling|{seed}|{i}").random() < 0.5
                        for i in range(len(comparisons))]
        self.records: list[dict] = []
        self.buttons: dict = {}
        self._view = None

    @property
    def position(self) -> int:
        return len(self.records)

    @property
    def done(self) -> bool:
        return self.position >= len(self.comparisons)

    def shown(self, index: int | None = None) -> tuple[str, str, str]:
        """(prompt, response shown as A, response shown as B) of comparison ``index`` (default:
        the current one)."""
        index = self.position if index is None else index
        c = self.comparisons[index]
        a, b = (c.second, c.first) if self.swapped[index] else (c.first, c.second)
        return c.prompt, a, b

    def record(self, choice: str, labeler: str = "human") -> dict:
        """Store ``choice`` (one of A, B, tie, skip) for the current comparison and move on."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}, got {choice!r}")
        if self.done:
            raise ValueError(f"all {len(self.comparisons)} comparisons are labelled already")
        index = self.position
        prompt, a, b = self.shown(index)
        chosen, rejected = {"A": (a, b), "B": (b, a)}.get(choice, (None, None))
        row = {"index": index, "prompt": prompt, "response_a": a, "response_b": b,
               "choice": choice, "chosen": chosen, "rejected": rejected,
               "first_shown_as": "B" if self.swapped[index] else "A", "labeler": labeler,
               **self.comparisons[index].meta}
        self.records.append(row)
        self._refresh()
        return row

    def label_with(self, judge_fn: Callable[[Comparison, str], float],
                   tie_margin: float = 0.0) -> list[dict]:
        """Label every remaining comparison with ``judge_fn(comparison, response) -> score``: the
        higher score wins; scores within ``tie_margin`` of each other are a tie."""
        if tie_margin < 0:
            raise ValueError(f"tie_margin must be >= 0, got {tie_margin}")
        while not self.done:
            comparison = self.comparisons[self.position]
            _, a, b = self.shown()
            gap = float(judge_fn(comparison, a)) - float(judge_fn(comparison, b))
            choice = "tie" if abs(gap) <= tie_margin else ("A" if gap > 0 else "B")
            self.record(choice, labeler="judge")
        return self.records

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    def preference_pairs(self) -> list[tuple[str, str, str]]:
        """(prompt, chosen, rejected) of every comparison decided as A or B (no ties, no skips)."""
        decided = [r for r in self.records if r["choice"] in ("A", "B")]
        return [(r["prompt"], r["chosen"], r["rejected"]) for r in decided]

    # --- the notebook view ----------------------------------------------------------------
    def widget(self):
        """An ipywidgets box: the prompt, responses A and B side by side, four buttons."""
        import ipywidgets as widgets

        self._prompt = widgets.HTML()
        self._a, self._b = widgets.HTML(), widgets.HTML()
        self._progress = widgets.HTML()
        labels = {"A": "A is better", "B": "B is better", "tie": "tie", "skip": "skip"}
        self.buttons = {}
        for choice, text in labels.items():
            button = widgets.Button(description=text)
            button.on_click(lambda _button, choice=choice: self.record(choice))
            self.buttons[choice] = button
        for view in (self._a, self._b):
            view.layout = widgets.Layout(width="50%", border="1px solid #ccc", padding="4px")
        self._view = widgets.VBox([self._progress, self._prompt, widgets.HBox([self._a, self._b]),
                                   widgets.HBox(list(self.buttons.values()))])
        self._refresh()
        return self._view

    def _refresh(self) -> None:
        if self._view is None:
            return
        n = len(self.comparisons)
        if self.done:
            decided = len(self.preference_pairs())
            self._progress.value = f"<b>All {n} labelled</b> ({decided} with a preference)."
            self._prompt.value = self._a.value = self._b.value = ""
            for button in self.buttons.values():
                button.disabled = True
            return
        prompt, a, b = self.shown()
        self._progress.value = f"comparison {self.position + 1} of {n}"
        self._prompt.value = f"<pre style='white-space: pre-wrap'>{html.escape(prompt)}</pre>"
        self._a.value = f"<b>A</b><pre style='white-space: pre-wrap'>{html.escape(a)}</pre>"
        self._b.value = f"<b>B</b><pre style='white-space: pre-wrap'>{html.escape(b)}</pre>"


def label_headless(comparisons: Sequence[Comparison], judge_fn: Callable[[Comparison, str], float],
                   tie_margin: float = 0.0, seed: int = 0) -> list[dict]:
    """Label all ``comparisons`` with ``judge_fn`` (no widget): the records, as the widget makes."""
    labeler = PreferenceLabeler(comparisons, seed)
    return labeler.label_with(judge_fn, tie_margin)


def gold_judge_fn(judge, examples) -> Callable[[Comparison, str], float]:
    """``judge_fn`` from a TinyWorld ``GoldJudge``; each Comparison's ``meta["example_id"]`` names
    its ``Example`` in ``examples``."""
    by_id = {e.id: e for e in examples}

    def judge_fn(comparison: Comparison, response: str) -> float:
        example_id = comparison.meta.get("example_id")
        if example_id not in by_id:
            raise ValueError(f"Comparison meta needs an 'example_id' from the given examples, got "
                             f"{example_id!r}")
        return judge.judge(by_id[example_id], response).score

    return judge_fn
