"""The report card: models x metrics, notebooks, plots and the model card, from fixtures."""

import math

import pandas as pd
import pytest

from minillm import report
from minillm.evaluate.report_card import (
    MISSING,
    MODEL_METRICS,
    ModelCard,
    collect_notebook_metrics,
    format_value,
    load_model_rows,
    model_table,
    render_report_card,
    save_model_rows,
    write_report_card,
)

MODELS = {
    "base": {"val loss": 1.91234, "bits per byte": 0.95, "tokens/s": 5400, "size (MB)": 12.5},
    "SFT": {"val_loss": 1.7, "QA accuracy": 0.62, "gold score": 0.71,
            "refusal rate (harmful)": 0.9, "over-refusal (benign)": 0.1},
    "dpo": {"gold score": 0.78, "refusal rate (harmful)": 0.95, "QA accuracy": float("nan")},
    "int8": {"val loss": 1.93, "size (MB)": 3.2, "perplexity": 6.9},
}


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def row_of(markdown: str, name: str) -> list[str]:
    return next(cells(line) for line in markdown.splitlines() if line.startswith(f"| {name} |"))


def test_model_table_orders_models_and_metrics():
    table = model_table(MODELS)
    assert list(table.index) == ["base", "sft", "dpo", "int8"]      # course order, canonical names
    assert list(table.columns) == [*MODEL_METRICS, "perplexity"]   # extras after the standard ones
    assert table.loc["sft", "val loss"] == 1.7                       # alias val_loss -> val loss
    assert math.isnan(table.loc["dpo", "QA accuracy"])
    assert math.isnan(table.loc["base", "gold score"])
    frame = pd.DataFrame([{"model": "LoRA", "gold score": 0.7}, {"model": "base", "val loss": 2.0}])
    assert list(model_table(frame).index) == ["base", "lora"]
    assert list(model_table([{"model": "ppo", "gold score": 0.5}]).index) == ["ppo"]
    with pytest.raises(ValueError, match="dict of metrics"):
        model_table({"base": 1.9})


def test_format_value():
    assert format_value(None) == MISSING and format_value(float("nan")) == MISSING
    assert format_value(1.91234) == "1.912" and format_value(5400) == "5400"
    assert format_value(True) == "yes" and format_value("a|b") == "a\\|b"


def test_report_from_fixture_metrics(minillm_home, tmp_path):
    report.record("03_pretraining", {"val loss": 1.91234, "tokens/s": 5400}, profile="smoke")
    report.record("06_sft", {"gold score": 0.71}, profile="smoke")
    save_model_rows(MODELS, profile="smoke")
    assert load_model_rows("smoke")["sft"]["gold score"] == 0.71
    plot = minillm_home / "runs" / "smoke" / "plots" / "03_loss.png"
    plot.parent.mkdir(parents=True)
    plot.write_bytes(b"\x89PNG fixture")
    target = write_report_card(minillm_home / "runs" / "smoke" / "REPORT_CARD.md", profile="smoke",
                               wall_times={"03_pretraining": 42.4, "06_sft": 300.0},
                               hardware="fixture CPU, 2 cores")
    text = target.read_text()
    assert "fixture CPU, 2 cores" in text and "total wall time: 5.7 min" in text
    header = row_of(text, "model")
    assert header == ["model", *MODEL_METRICS, "perplexity"]
    base = dict(zip(header, row_of(text, "base"), strict=True))
    assert base["val loss"] == "1.912" and base["bits per byte"] == "0.95"
    assert base["tokens/s"] == "5400" and base["gold score"] == MISSING
    assert base["QA accuracy"] == MISSING and base["perplexity"] == MISSING
    dpo = dict(zip(header, row_of(text, "dpo"), strict=True))
    assert dpo["gold score"] == "0.78" and dpo["QA accuracy"] == MISSING   # NaN shows as missing
    assert dict(zip(header, row_of(text, "int8"), strict=True))["perplexity"] == "6.9"
    assert "| lora |" not in text and "| ppo |" not in text                # absent models: no row
    assert row_of(text, "03_pretraining") == ["03_pretraining", "42 s",
                                              "val loss: 1.912; tokens/s: 5400"]
    assert row_of(text, "06_sft") == ["06_sft", "5.0 min", "gold score: 0.71"]
    assert "- [03_loss](plots/03_loss.png)" in text                        # relative to the report
    assert "## Model card: dpo" in text                                     # the final model
    card = text.split("## Model card: dpo", 1)[1]
    assert "- gold score: 0.78" in card and "- refusal rate (harmful): 0.95" in card
    assert "QA accuracy" not in card                                         # unmeasured: left out
    for heading in ("**Intended use.**", "**Training data.**", "**Evaluation results.**",
                    "**Limitations.**"):
        assert heading in card
    assert sorted(p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_explicit_inputs_and_empty_sections(tmp_path):
    text = render_report_card(profile="smoke", models={}, notebook_metrics={}, wall_times=None,
                              hardware="cpu", plots=[], base_dir=tmp_path)
    assert "no model comparison saved yet" in text and "no notebook has recorded" in text
    assert "no saved plots" in text and "## Model card: final model" in text
    card = ModelCard(model="sft", intended_use="Demo only.", notes=["trained for 3 minutes"])
    text = render_report_card(profile="smoke", models=MODELS, hardware="cpu",
                              notebook_metrics={"09_evaluation": {"acc": 0.5}},
                              plots={"loss curve": tmp_path / "nope.png"}, model_card=card,
                              base_dir=tmp_path)
    assert "## Model card: sft" in text and "Demo only." in text
    assert "- trained for 3 minutes" in text
    assert "- [loss curve](nope.png) (file not found)" in text
    assert row_of(text, "09_evaluation") == ["09_evaluation", MISSING, "acc: 0.5"]


def test_course_style_wiring_reads_everything_from_disk(minillm_home):
    """What course.py will call: one line, everything else found under runs/<profile>/."""
    from minillm.course import NotebookRun

    report.record("01_data_curation", {"kept": 0.8}, profile="smoke")
    runs = [NotebookRun("01_data_curation", "ok", 12.0, {"kept": 0.8})]
    target = write_report_card(profile="smoke", wall_times=runs, hardware="cpu")
    assert target == minillm_home / "runs" / "smoke" / "REPORT_CARD.md"
    assert collect_notebook_metrics("smoke") == {"01_data_curation": {"kept": 0.8}}
    text = target.read_text()
    assert row_of(text, "01_data_curation") == ["01_data_curation", "12 s", "kept: 0.8"]
    with pytest.raises(ValueError, match="no model rows"):
        save_model_rows({}, profile="smoke")
