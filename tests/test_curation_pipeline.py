"""The curation pipeline: logs and statistics that add up, determinism, awkward inputs, the
ground-truth targets on a smoke-sized crawl, the quality classifier and the stage artifact."""

import datasets
import pandas as pd
import pytest

from minillm.curation import evaluate, stage
from minillm.curation import pipeline as P
from minillm.curation.classifier import QualityClassifier
from minillm.curation.steps import make_steps
from minillm.data.tinyworld.crawl import CrawlConfig, crawl_dataset, sft_test_questions

datasets.disable_progress_bars()


def strip_step(text):
    return P.Outcome(text.strip(), change="stripped" if text != text.strip() else "")


def min_words_step(text):
    return P.Outcome(text, "too short" if len(text.split()) < 3 else None)


def first_copy_step(texts, ids):
    seen, out = {}, []
    for text, doc_id in zip(texts, ids, strict=True):
        out.append(P.Outcome(text, f"copy of {seen[text]}" if text in seen else None))
        seen.setdefault(text, doc_id)
    return out


TOY_STEPS = [P.document_step("strip", strip_step), P.document_step("min_words", min_words_step),
             P.corpus_step("dedup", first_copy_step)]


def toy(texts):
    return datasets.Dataset.from_dict({"id": [f"d{i}" for i in range(len(texts))], "text": texts})


@pytest.fixture(scope="module")
def crawl(world):
    return crawl_dataset(world, CrawlConfig(n_docs=400, seed=0))


@pytest.fixture(scope="module")
def questions(world):
    return [q for q, _ in sft_test_questions(world)]


@pytest.fixture(scope="module")
def curated(crawl, questions):
    return stage.curate(crawl, stage.tinyworld_config(num_proc=1), questions)


def test_toy_pipeline_log_and_stats():
    result = P.Pipeline(TOY_STEPS).run(toy(["x", " a b c", "a b c", "q r s", "   "]))
    assert list(result.dataset["text"]) == ["a b c", "q r s"]
    log = result.log_frame()
    assert log[["id", "step", "action", "reason"]].values.tolist() == [
        ["d0", "min_words", "removed", "too short"],
        ["d1", "strip", "changed", "stripped"],
        ["d4", "empty", "removed", "empty document"],
        ["d2", "dedup", "removed", "copy of d1"],
    ]
    stats = result.stats_frame().set_index("step")
    assert stats.loc["empty", "docs_in"] == 5 and stats.loc["empty", "docs_out"] == 4
    assert stats.loc["min_words", ["docs_in", "docs_out", "removed"]].tolist() == [4, 3, 1]
    assert stats.loc["dedup", ["docs_in", "docs_out"]].tolist() == [3, 2]
    assert stats.loc["dedup", "bytes_out"] == len("a b cq r s")


def test_empty_dataset_gives_empty_result():
    result = P.Pipeline(TOY_STEPS).run(toy([]))
    assert len(result.dataset) == 0 and result.log == []
    assert result.stats_frame()["docs_in"].sum() == 0


def test_non_utf8_bytes_are_decoded_and_logged():
    raw = datasets.Dataset.from_dict({"id": ["a", "b", "c"],
                                      "raw": [b"caf\xe9 au lait", "na\u00efve one two".encode(), None]})
    result = P.Pipeline(TOY_STEPS).run(raw, text_column="raw")
    assert list(result.dataset["text"]) == ["café au lait", "naïve one two"]
    assert "raw" not in result.dataset.column_names
    log = result.log_frame()
    assert log.loc[log.id == "a", "reason"].tolist() == ["bytes were not UTF-8: decoded as cp1252"]
    assert log.loc[log.id == "c", "step"].tolist() == ["empty"]


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="no column 'body'"):
        P.Pipeline(TOY_STEPS).run(toy(["a b c"]), text_column="body")
    with pytest.raises(ValueError, match="datasets.Dataset"):
        P.Pipeline(TOY_STEPS).run({"id": ["a"], "text": ["a b c"]})
    with pytest.raises(ValueError, match="unique"):
        P.Pipeline(TOY_STEPS + TOY_STEPS[:1])
    with pytest.raises(ValueError, match="must hold str or bytes"):
        P.Pipeline(TOY_STEPS).run(datasets.Dataset.from_dict({"id": ["a"], "text": [3]}))


def test_every_removed_document_has_exactly_one_reason(crawl, curated):
    log = curated.log_frame()
    removed = log[log.action == "removed"]
    kept = set(curated.dataset["id"])
    assert removed.id.is_unique
    assert set(removed.id) | kept == set(crawl["id"]) and not set(removed.id) & kept
    assert (removed.reason.str.len() > 0).all() and (removed.before.str.len() > 0).all()
    stats = curated.stats_frame()
    assert (stats.docs_out.iloc[:-1].values == stats.docs_in.iloc[1:].values).all()
    per_step = removed.step.value_counts()
    for row in stats.itertuples():
        assert row.removed == per_step.get(row.step, 0)
    assert stats.docs_out.iloc[-1] == len(kept)


def test_pipeline_is_deterministic_and_parallel_equals_serial(crawl, questions, curated):
    small = crawl.select(range(120))
    serial = stage.curate(small, stage.tinyworld_config(num_proc=1), questions)
    parallel = stage.curate(small, stage.tinyworld_config(num_proc=2), questions)
    assert list(serial.dataset["text"]) == list(parallel.dataset["text"])
    columns = ["id", "step", "action", "reason", "before", "after"]
    pd.testing.assert_frame_equal(serial.log_frame()[columns], parallel.log_frame()[columns])
    again = stage.curate(small, stage.tinyworld_config(num_proc=1), questions)
    assert list(again.dataset["text"]) == list(serial.dataset["text"])


def test_ground_truth_targets_on_a_smoke_crawl(crawl, curated, questions):
    table = evaluate.ground_truth_table(crawl, curated, stage.tinyworld_config(1).minhash, questions)
    assert table["met"].all(), table.to_string()
    assert len(table) == 10


def test_each_junk_kind_goes_to_the_step_built_for_it(crawl, curated):
    removed_by = curated.removed_by()
    rows = crawl.select_columns(["id", "language", "spam", "toxic"])
    foreign = [r["id"] for r in rows if r["language"] != "en"]
    assert foreign and all(removed_by.get(i) == "language" for i in foreign)
    spam = [r["id"] for r in rows if r["spam"]]
    assert sum(i in removed_by for i in spam) / len(spam) >= 0.9


def test_published_thresholds_remove_more_clean_pages(crawl, questions, curated):
    published = stage.curate(crawl, stage.published_config(), questions)
    tuned = evaluate.score_end_to_end(crawl, curated)["clean_kept"]
    strict = evaluate.score_end_to_end(crawl, published)["clean_kept"]
    assert strict < tuned - 0.1      # short TinyWorld pages fail Gopher's 50-word minimum


def test_quality_classifier_separates_curated_from_junk(crawl, curated):
    kept = list(curated.dataset["text"])
    junk = [r["clean_text"] for r in crawl if r["spam"] or r["gibberish"]]
    texts, labels = kept[:150] + junk[:25], [1] * 150 + [0] * 25
    clf = QualityClassifier(n_features=2**14, epochs=300).fit(texts, labels)
    assert clf.losses[-1] < clf.losses[0] / 2
    held_out = kept[150:200] + junk[25:]
    truth = [1] * len(kept[150:200]) + [0] * len(junk[25:])
    predicted = (clf.predict_proba(held_out) > 0.5).astype(int).tolist()
    assert sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth) >= 0.9
    again = QualityClassifier(n_features=2**14, epochs=300).fit(texts, labels)
    assert (again.weights == clf.weights).all()
    with pytest.raises(ValueError, match="both classes"):
        QualityClassifier().fit(["a", "b"], [1, 1])
    with pytest.raises(RuntimeError, match="not trained"):
        QualityClassifier().predict_proba(["a"])


def test_skip_names_are_checked():
    with pytest.raises(ValueError, match="unknown steps"):
        make_steps(stage.tinyworld_config(1).__class__(skip=("nope",)))


def test_curated_corpus_artifact(minillm_home):
    from minillm import artifacts
    from minillm.data.tinyworld.corpus import SEPARATOR

    corpus = artifacts.get("curated_corpus")
    train = corpus.file("train.txt").read_text(encoding="utf-8")
    documents = train.split(SEPARATOR)
    assert len(documents) == corpus.meta["docs_out"] > 100
    assert all(doc.strip() for doc in documents)
    source = artifacts.get("tinyworld_corpus").file("validation.txt").read_bytes()
    assert corpus.file("validation.txt").read_bytes() == source
    log = pd.read_parquet(corpus.file("exclusions.parquet"))
    assert (log[log.action == "removed"].id.nunique() == corpus.meta["docs_in"] - corpus.meta["docs_out"])
    assert corpus.meta["targets_met"] == corpus.meta["targets"]
    assert "<EMAIL>" in train or "<PHONE>" in train or "<IPV4>" in train or "<IPV6>" in train
