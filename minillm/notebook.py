"""Helpers that every notebook uses in its first cells: the course map and environment checks.

    from minillm import notebook
    notebook.start("03_pretraining", stage="pretrain")   # banner, seeds, plot style
    notebook.environment_table()                         # versions vs requirements, with fixes
    notebook.draw_course_map()                           # the pipeline as a figure
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import sys
from dataclasses import dataclass

from minillm import paths, profiles

REPO = "minillm-course/minillm"      # GitHub owner/name: Colab badges and the Colab set-up cell


@dataclass(frozen=True)
class Chapter:
    number: str
    slug: str
    title: str
    builds: str          # what the student builds
    artifact: str        # what the stage hands to the later ones
    needs: tuple         # chapters whose artifacts it consumes
    stage: str           # the profiles stage whose expected minutes the chapter reports

    @property
    def filename(self) -> str:
        return f"{self.number}_{self.slug}.ipynb"

    @property
    def minutes(self) -> dict:
        """Expected minutes per profile: the stage's own figures."""
        return profiles.get_stage(self.stage).minutes


CHAPTERS = (
    Chapter("00", "welcome", "Welcome and data", "the environment check, TinyWorld and PyDocs",
            "TinyWorld, PyDocs", (), "data"),
    Chapter("01", "data_curation", "Data curation",
            "a filtering and dedup pipeline scored against ground truth", "curated corpus", ("00",),
            "curation"),
    Chapter("02", "tokenization", "Tokenization", "a byte-level BPE that matches tiktoken",
            "tokenizer, shards", ("01",), "tokenize"),
    Chapter("03", "pretraining", "Pretraining", "a GPT and its training loop", "base model", ("02",),
            "pretrain"),
    Chapter("04", "scaling_laws", "Scaling laws", "a sweep, three Chinchilla fits and a prediction",
            "scaling fits", ("03",), "scaling"),
    Chapter("05", "supervised_finetuning", "SFT", "chat templates and masked-loss fine-tuning",
            "SFT model", ("03",), "sft"),
    Chapter("06", "prompt_tuning", "Prompt tuning", "soft prompts, prefix tuning and LoRA", "adapters",
            ("05",), "peft"),
    Chapter("07", "rlhf", "RLHF", "a reward model, PPO and DPO with a gold judge",
            "reward model, policy", ("05",), "rlhf"),
    Chapter("08", "compression", "Compression", "quantization, pruning and distillation",
            "compressed models", ("03", "05"), "compress"),
    Chapter("09", "evaluation", "Evaluation", "one evaluation suite over every model, red-teaming",
            "report card", ("06", "07", "08"), "evaluate"),
)

# where each chapter sits in the course map (x, y)
_MAP_POSITIONS = {"00": (0, 0), "01": (1, 0), "02": (2, 0), "03": (3, 0), "04": (3.5, 1.25),
                  "05": (4.3, 0), "06": (5.2, 1.25), "07": (5.6, 0), "08": (5.2, -1.25),
                  "09": (6.9, 0)}


def colab_url(filename: str) -> str:
    return f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{filename}"


def start(notebook_name: str, stage: str | None = None, seed: int = 0) -> str:
    """Print the banner, seed every generator and set the plot style; return the profile."""
    import matplotlib.pyplot as plt

    from minillm.device import seed_everything

    profile = profiles.active_profile()
    print(profiles.banner(stage, profile))
    print(f"notebook {notebook_name}; artifacts in {paths.artifacts_dir(profile)}")
    seed_everything(seed)
    plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False})
    return profile


def environment_table():
    """Each requirement of minillm that applies to this Python (``tomli`` only below 3.11): what
    is installed, whether it satisfies, and the fix."""
    import pandas as pd
    from packaging.requirements import Requirement

    rows = []
    for line in metadata.requires("minillm") or []:
        req = Requirement(line)
        extra = "dev" if req.marker and "extra" in str(req.marker) else "core"
        if req.marker and not req.marker.evaluate({"extra": "dev"}):  # e.g. tomli on 3.11+
            continue
        try:
            installed = metadata.version(req.name)
            ok = req.specifier.contains(installed, prereleases=True)
        except metadata.PackageNotFoundError:
            installed, ok = "missing", False
        fix = "" if ok else f"pip install '{req.name}{req.specifier}'  (or: make install)"
        rows.append({"package": req.name, "group": extra, "required": str(req.specifier) or "any",
                     "installed": installed, "ok": ok, "fix": fix})
    return pd.DataFrame(rows)


def environment_warnings() -> list[str]:
    """Problems a student can fix, each with the fix: wrong kernel, missing packages."""
    warnings = []
    table = environment_table()
    for row in table[(~table.ok) & (table.group == "core")].itertuples():
        warnings.append(f"{row.package} {row.installed}: needs {row.required}. Fix: {row.fix}")
    root = paths.repo_root()
    venv = root / ".venv"
    in_colab = "google.colab" in sys.modules
    if venv.exists() and not in_colab and not sys.prefix.startswith(str(venv)):
        warnings.append(
            f"this kernel runs {sys.executable}, not the course's {venv}/bin/python. Fix: pick the "
            f"'Python 3' kernel of .venv (start Jupyter with `make lab`), or run "
            f"`{venv}/bin/python -m ipykernel install --user --name minillm` and choose 'minillm'."
        )
    if os.environ.get("MINILLM_PROFILE") == "gpu":
        import torch

        if not torch.cuda.is_available():
            warnings.append("MINILLM_PROFILE=gpu but CUDA is not available: unset it or use 'cpu'.")
    return warnings


def draw_course_map(ax=None):
    """The pipeline as a figure: one box per notebook, the artifact it hands on in italics,
    an arrow for every artifact a later notebook consumes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(13, 4.4))
    colours = {"00": "#d9d9d9", "01": "#8dd3c7", "02": "#8dd3c7", "03": "#80b1d3", "04": "#80b1d3",
               "05": "#fdb462", "06": "#fdb462", "07": "#fb8072", "08": "#bebada", "09": "#b3de69"}
    w, h, scale = 1.1, 0.62, 1.7
    centre = {c.number: (x * scale, y) for c in CHAPTERS for x, y in [_MAP_POSITIONS[c.number]]}
    for chapter in CHAPTERS:
        x, y = centre[chapter.number]
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                    fc=colours[chapter.number], ec="black", lw=1, zorder=2))
        ax.text(x, y + 0.12, chapter.number, ha="center", va="center", fontsize=12, weight="bold")
        ax.text(x, y - 0.13, chapter.title, ha="center", va="center", fontsize=8.5)
        ax.text(x, y - h / 2 - 0.14, chapter.artifact, ha="center", va="center", fontsize=7.5,
                style="italic", color="#333333")
        for need in chapter.needs:
            (x0, y0), (x1, y1) = centre[need], (x, y)
            start = (x0 + w / 2 + 0.04, y0) if y0 == y1 or x1 - x0 > w else (x0, y0 + h / 2 * (1 if y1 > y0 else -1))
            end = (x1 - w / 2 - 0.04, y1)
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.1,
                                         color="#444444", zorder=1))
    xs = [p[0] for p in centre.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(-1.9, 1.8)
    ax.set_axis_off()
    ax.set_title("The course pipeline: each notebook builds an artifact (italics) that later ones use")
    return ax.figure


def chapters_table():
    """The course as a table: notebook, topic, what you build, minutes per profile."""
    import pandas as pd

    return pd.DataFrame([
        {"notebook": c.filename, "topic": c.title, "you build": c.builds, "hands on": c.artifact,
         **{f"min ({p})": c.minutes[p] for p in profiles.PROFILES}}
        for c in CHAPTERS
    ]).set_index("notebook")


def profile_table(stage: str):
    """A stage's config in every profile, side by side (one row per config field)."""
    import pandas as pd

    from minillm.artifacts import config_to_jsonable

    configs = profiles.get_stage(stage).configs
    columns = {p: config_to_jsonable(configs[p]) for p in profiles.PROFILES}
    table = pd.DataFrame(columns)
    table.index.name = f"{stage} config"
    return table
