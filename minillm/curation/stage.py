"""The curation stage: per-profile configs and the ``curated_corpus`` artifact.

``artifacts.get("curated_corpus")`` runs the full pipeline (``steps.make_steps``) over the raw
TinyWorld web crawl and writes:

- ``train.txt``        the curated pages, separated by ``\\n<|endoftext|>\\n`` (what the tokenizer
                       and pretraining train on);
- ``validation.txt``   the TinyWorld corpus validation split, copied untouched (for evaluation);
- ``exclusions.parquet`` the exclusion log: every removed or changed page, which step, and why;
- ``stats.json``       per-step statistics and the ground-truth scores.

The published Gopher and C4 thresholds were set for long web pages. TinyWorld pages are short
(a maths problem is 30 words; a packing list has one sentence), so the course's configs relax
a few of them, listed in ``TINYWORLD_TUNING``; notebook 01 shows what the published values do.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace

from minillm import artifacts, profiles
from minillm.curation import evaluate
from minillm.curation.minhash import MinHashConfig
from minillm.curation.pipeline import Pipeline
from minillm.curation.quality import C4Config, GopherQualityConfig, GopherRepetitionConfig
from minillm.curation.steps import CurationConfig, make_steps
from minillm.data.tinyworld.corpus import SEPARATOR

TINYWORLD_TUNING = {
    "gopher_quality.min_words": (50, 15),
    "gopher_quality.min_alpha_word_fraction": (0.8, 0.6),
    "gopher_quality.min_stop_words": (2, 1),
    "gopher_quality.max_symbol_word_ratio": (0.1, 0.2),
    "gopher_repetition.max_top_ngram_char_fraction": ("0.20 / 0.18 / 0.16", "0.35 / 0.30 / 0.25"),
    "c4.min_sentences": (3, 1),
    "c4.keep_list_items": (False, True),
}


def tinyworld_config(num_proc: int, minhash: MinHashConfig | None = None) -> CurationConfig:
    """The published thresholds, with the TinyWorld tuning above applied."""
    return CurationConfig(
        num_proc=num_proc,
        gopher_quality=GopherQualityConfig(min_words=15, min_alpha_word_fraction=0.6, min_stop_words=1,
                                           max_symbol_word_ratio=0.2),
        gopher_repetition=GopherRepetitionConfig(
            max_top_ngram_char_fraction=((2, 0.35), (3, 0.30), (4, 0.25))),
        c4=C4Config(min_sentences=1, keep_list_items=True),
        minhash=minhash or MinHashConfig(),
    )


profiles.register_stage(
    "curation",
    configs={"smoke": tinyworld_config(1), "cpu": tinyworld_config(2), "gpu": tinyworld_config(2)},
    minutes={"smoke": 1, "cpu": 4, "gpu": 8},
    description="web crawl -> curated corpus: extraction, filters, PII, dedup, decontamination",
)


def test_questions(sft_artifact) -> list[str]:
    """The first user turn of every SFT test example: what decontamination protects."""
    from minillm.data.build import load_sft

    questions = set()
    for example in load_sft("test", sft_artifact):
        turns = [m["content"] for m in example.messages if m["role"] == "user"]
        if turns:
            questions.add(turns[0])
    return sorted(questions)


def curate(crawl, config: CurationConfig, questions=()):
    """Run the full pipeline over a crawl dataset; returns a ``CurationResult``."""
    return Pipeline(make_steps(config, questions), num_proc=config.num_proc).run(
        crawl, text_column=config.text_column)


@artifacts.register("curated_corpus", deps=("web_crawl", "tinyworld_corpus", "tinyworld_sft"),
                    stage="curation")
def build_curated_corpus(out_dir, config, inputs):
    """The web crawl, curated: train.txt, validation.txt, the exclusion log and stats."""
    import pandas as pd

    from minillm.data.build import load_crawl

    crawl = load_crawl(inputs["web_crawl"])
    questions = test_questions(inputs["tinyworld_sft"])
    result = curate(crawl, config, questions)
    texts = list(result.dataset["text"]) if len(result.dataset) else []
    (out_dir / "train.txt").write_text(SEPARATOR.join(texts), encoding="utf-8")
    shutil.copyfile(inputs["tinyworld_corpus"].file("validation.txt"), out_dir / "validation.txt")
    pd.DataFrame(result.log_frame()).to_parquet(out_dir / "exclusions.parquet", index=False)
    scores = evaluate.ground_truth_table(crawl, result, config.minhash, questions)
    stats = {"steps": [asdict(s) for s in result.stats], "seconds": result.seconds,
             "ground_truth": scores.to_dict(orient="records")}
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1, default=float))
    value = {f"{r['target']}: {r['measure']}": round(float(r["value"]), 4) for r in stats["ground_truth"]}
    return {"docs_in": len(crawl), "docs_out": len(texts), "train_bytes": sum(len(t.encode()) for t in texts),
            "train_words": sum(len(t.split()) for t in texts), "seconds": round(result.seconds, 1),
            "targets_met": int(scores["met"].sum()), "targets": len(scores), "scores": value}


def published_config(num_proc: int = 1) -> CurationConfig:
    """The pipeline with the published Gopher / C4 thresholds, untuned (for comparison)."""
    return replace(tinyworld_config(num_proc), gopher_quality=GopherQualityConfig(),
                   gopher_repetition=GopherRepetitionConfig(), c4=C4Config())
