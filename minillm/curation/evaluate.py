"""Scores against the TinyWorld crawl's ground truth: every filter gets a precision and recall.

The crawl (``minillm.data.tinyworld.crawl``) labels each page with the defects it carries. Two
kinds of score:

- **component** scores run one detector on the crawl's ``clean_text`` (what an ideal extractor
  returns), so the detector is judged on the text the labels were defined on: exact and near
  duplicates, PII;
- **end-to-end** scores follow each page through the whole pipeline (from raw HTML) and ask
  where it went: junk removed, clean pages kept, test-question copies gone.

``ground_truth_table(crawl, result, config, questions)`` returns all of them as a DataFrame
with the course's targets beside them.
"""

from __future__ import annotations

from collections.abc import Sequence

from minillm.curation import dedup, minhash, pii

PII_KINDS = ("email", "phone", "ipv4", "ipv6")


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def score_exact_dedup(texts: Sequence[str], exact_dup_of: Sequence[str]) -> dict:
    """Precision and recall of ``dedup.duplicate_of`` against the ``exact_dup_of`` labels."""
    flagged = [i >= 0 for i in dedup.duplicate_of(texts)]
    truth = [bool(x) for x in exact_dup_of]
    hits = sum(f and t for f, t in zip(flagged, truth, strict=True))
    return {"precision": _ratio(hits, sum(flagged)), "recall": _ratio(hits, sum(truth)),
            "flagged": sum(flagged), "true": sum(truth)}


def score_near_dedup(texts: Sequence[str], near_dup_of: Sequence[str], near_dup_jaccard: Sequence[float],
                     exact_dup_of: Sequence[str], config: minhash.MinHashConfig,
                     min_jaccard: float = 0.8) -> dict:
    """MinHash + LSH on the pages left after exact dedup. Recall counts copies with true
    Jaccard >= ``min_jaccard``; a flag is correct when the page is a labelled near-duplicate."""
    keep = [i for i, x in enumerate(exact_dup_of) if not x]
    found = minhash.find_near_duplicates([texts[i] for i in keep], config)
    flagged = [found.duplicate_of[k] >= 0 for k in range(len(keep))]
    labelled = [bool(near_dup_of[i]) for i in keep]
    positive = [near_dup_jaccard[i] >= min_jaccard for i in keep]
    return {
        "precision": _ratio(sum(f and t for f, t in zip(flagged, labelled, strict=True)), sum(flagged)),
        "recall": _ratio(sum(f and p for f, p in zip(flagged, positive, strict=True)), sum(positive)),
        "flagged": sum(flagged), "true": sum(positive), "candidate_pairs": found.candidate_pairs,
    }


def score_pii(texts: Sequence[str], counts: dict[str, Sequence[int]]) -> dict:
    """Share of injected PII items masked (per kind, capped at the labelled count) and share of
    PII-free pages that got any mask (false masks)."""
    masked_items = injected = false_pages = clean_pages = 0
    per_kind = dict.fromkeys(PII_KINDS, 0)
    for i, text in enumerate(texts):
        _, found = pii.mask_pii(text)
        labelled = {kind: int(counts[kind][i]) for kind in PII_KINDS}
        if sum(labelled.values()) == 0:
            clean_pages += 1
            false_pages += sum(found.values()) > 0
        for kind in PII_KINDS:
            injected += labelled[kind]
            masked_items += min(found[kind], labelled[kind])
            per_kind[kind] += min(found[kind], labelled[kind])
    return {"masked": _ratio(masked_items, injected), "false_mask_pages": _ratio(false_pages, clean_pages),
            "injected": injected, **{f"masked_{k}": v for k, v in per_kind.items()}}


def is_junk(row: dict) -> bool:
    """Spam, gibberish or not English: pages no curated corpus should keep."""
    return bool(row["spam"] or row["gibberish"] or row["language"] != "en")


def score_end_to_end(crawl, result, questions: Sequence[str] = ()) -> dict:
    """Where each page went. ``result`` is a ``CurationResult`` of the pipeline on ``crawl``."""
    from minillm.data.tinyworld.crawl import QuestionFinder

    labels = crawl.select_columns(["id", "spam", "gibberish", "language", "is_clean", "contaminated"])
    kept_ids = set(result.dataset["id"]) if len(result.dataset) else set()
    junk = [r["id"] for r in labels if is_junk(r)]
    clean = [r["id"] for r in labels if r["is_clean"]]
    contaminated = [r["id"] for r in labels if r["contaminated"]]
    scores = {
        "junk_removed": _ratio(sum(i not in kept_ids for i in junk), len(junk)),
        "clean_kept": _ratio(sum(i in kept_ids for i in clean), len(clean)),
        "contaminated_pages": len(contaminated),
        "contaminated_dropped": _ratio(sum(i not in kept_ids for i in contaminated), len(contaminated)),
        "docs_in": len(crawl), "docs_out": len(kept_ids),
    }
    if questions:  # the strict check: no kept page still holds a test question verbatim
        finder = QuestionFinder(list(questions))
        leaked = sum(finder.find(text) is not None for text in result.dataset["text"]) if kept_ids else 0
        copies_in = sum(finder.find(t) is not None for t in crawl["clean_text"])
        scores["test_copies_left"] = leaked
        scores["test_copies_removed"] = _ratio(copies_in - leaked, copies_in)
    return scores


def ground_truth_table(crawl, result, minhash_config: minhash.MinHashConfig, questions: Sequence[str] = ()):
    """One row per target: the measured value, the goal, and whether it is met."""
    import pandas as pd

    texts = crawl["clean_text"]
    exact = score_exact_dedup(texts, crawl["exact_dup_of"])
    near = score_near_dedup(texts, crawl["near_dup_of"], crawl["near_dup_jaccard"], crawl["exact_dup_of"],
                            minhash_config)
    masked = score_pii(texts, {k: crawl[f"pii_{k}"] for k in PII_KINDS})
    e2e = score_end_to_end(crawl, result, questions)
    rows = [
        ("exact duplicates", "recall", exact["recall"], ">=", 1.0),
        ("exact duplicates", "precision", exact["precision"], ">=", 1.0),
        ("near duplicates (J >= 0.8)", "recall", near["recall"], ">=", 0.90),
        ("near duplicates (J >= 0.8)", "precision", near["precision"], ">=", 0.95),
        ("PII", "items masked", masked["masked"], ">=", 0.99),
        ("PII", "clean pages with a false mask", masked["false_mask_pages"], "<", 0.01),
        ("junk (spam, gibberish, foreign)", "removed", e2e["junk_removed"], ">=", 0.90),
        ("clean pages", "kept", e2e["clean_kept"], ">=", 0.95),
        ("contamination", "pages with a test question dropped", e2e["contaminated_dropped"], ">=", 1.0),
    ]
    if "test_copies_removed" in e2e:
        rows.append(("contamination", "test-question copies removed", e2e["test_copies_removed"], ">=", 1.0))
    frame = pd.DataFrame(rows, columns=["target", "measure", "value", "op", "goal"])
    frame["met"] = [v >= g if op == ">=" else v < g for v, op, g in zip(frame.value, frame.op, frame.goal, strict=True)]
    return frame.drop(columns="op")
