"""The standard curation steps, built from one ``CurationConfig``.

Each function here wraps one filter module as a pipeline step (``Outcome`` in, ``Outcome``
out), in the order the course runs them:

    extract -> normalize -> language -> gopher_quality -> gopher_repetition -> keyword_stuffing
    -> toxic -> decontaminate -> pii -> c4_lines -> exact_dedup -> near_dedup

Cheap per-document filters come first; deduplication, which must see the whole corpus, comes
last so it only compares pages that survived. ``make_steps(config, test_texts)`` returns the
list; ``Pipeline(make_steps(...), num_proc=config.num_proc).run(crawl, text_column="html")``
runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from minillm.curation import dedup, extract, language, minhash, pii, quality, toxic
from minillm.curation.decontam import DecontamConfig, Decontaminator
from minillm.curation.normalize import NormalizeConfig, normalize_text
from minillm.curation.pipeline import Outcome, Step, corpus_step, document_step


@dataclass(frozen=True)
class CurationConfig:
    """Every threshold of the pipeline. Defaults are the published values; the course's stage
    configs (``stage.py``) tune a few for TinyWorld's short pages, and say which."""

    num_proc: int = 1
    text_column: str = "html"
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    language: language.LanguageConfig = field(default_factory=language.LanguageConfig)
    gopher_quality: quality.GopherQualityConfig = field(default_factory=quality.GopherQualityConfig)
    gopher_repetition: quality.GopherRepetitionConfig = field(
        default_factory=quality.GopherRepetitionConfig)
    stuffing: quality.StuffingConfig = field(default_factory=quality.StuffingConfig)
    toxic: toxic.ToxicConfig = field(default_factory=toxic.ToxicConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    mask_pii: bool = True
    c4: quality.C4Config = field(default_factory=quality.C4Config)
    exact: dedup.ExactDedupConfig = field(default_factory=dedup.ExactDedupConfig)
    minhash: minhash.MinHashConfig = field(default_factory=minhash.MinHashConfig)
    skip: tuple[str, ...] = ()     # names of steps to leave out


def extract_step(page: str) -> Outcome:
    if not extract.looks_like_html(page):
        return Outcome(page)
    text = extract.extract_main_text(page)
    if not text.strip():
        return Outcome("", "extract: no main text found (boilerplate only)")
    return Outcome(text, change=f"kept {len(text):,} of {len(page):,} characters")


def normalize_step(text: str, config: NormalizeConfig) -> Outcome:
    normalized, changes = normalize_text(text, config)
    if not normalized.strip():
        return Outcome("", "normalize: nothing left after normalization")
    return Outcome(normalized, change=", ".join(changes))


def reason_step(text: str, check, config) -> Outcome:
    """A filter that only keeps or removes: ``check(text, config)`` gives the reason or None."""
    return Outcome(text, check(text, config))


def decontam_step(text: str, finder: Decontaminator) -> Outcome:
    return Outcome(text, finder.reason(text))


def pii_step(text: str) -> Outcome:
    masked, counts = pii.mask_pii(text)
    found = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    return Outcome(masked, change=f"masked {found}" if found else "")


def c4_step(text: str, config: quality.C4Config) -> Outcome:
    kept, removed = quality.c4_filter_lines(text, config)
    reason = quality.c4_page_reason(kept, config)
    if reason:
        return Outcome(kept, reason)
    return Outcome(kept, change=f"removed {len(removed)} line{'s' * (len(removed) != 1)}: "
                   + " | ".join(line[:40] for line in removed[:3]) if removed else "")


def exact_dedup_step(texts: list[str], ids: list[str], config: dedup.ExactDedupConfig) -> list[Outcome]:
    first = dedup.duplicate_of(texts) if config.documents else [-1] * len(texts)
    survivors = [t for t, f in zip(texts, first, strict=True) if f < 0]
    boilerplate = (dedup.frequent_lines(survivors, config.max_docs_per_line, config.min_line_chars)
                   if config.lines else set())
    cleaned = iter(dedup.remove_lines(survivors, boilerplate))
    outcomes = []
    for text, original in zip(texts, first, strict=True):
        if original >= 0:
            outcomes.append(Outcome(text, f"exact duplicate of {ids[original]}"))
            continue
        new_text, removed = next(cleaned)
        if removed and not new_text.strip():
            outcomes.append(Outcome("", "exact_dedup: only boilerplate lines"))
        elif removed:
            outcomes.append(Outcome(new_text, change=f"removed {len(removed)} boilerplate line"
                                    f"{'s' * (len(removed) != 1)}: {removed[0][:50]!r}"))
        else:
            outcomes.append(Outcome(text))
    return outcomes


def near_dedup_step(texts: list[str], ids: list[str], config: minhash.MinHashConfig) -> list[Outcome]:
    found = minhash.find_near_duplicates(texts, config)
    return [Outcome(text, None if original < 0 else
                    f"near duplicate of {ids[original]} (Jaccard {similarity:.2f})")
            for text, original, similarity in zip(texts, found.duplicate_of, found.similarity,
                                                  strict=True)]


def make_steps(config: CurationConfig = CurationConfig(), test_texts=()) -> list[Step]:
    """The pipeline's steps for ``config``; ``test_texts`` feed decontamination (skipped if
    empty)."""
    q = quality
    steps = [
        document_step("extract", extract_step, "HTML -> main text (trafilatura)"),
        document_step("normalize", partial(normalize_step, config=config.normalize),
                      "mojibake, NFC, control characters, whitespace"),
        document_step("language", partial(reason_step, check=language.language_reason,
                                          config=config.language), "langid: keep allowed languages"),
        document_step("gopher_quality", partial(reason_step, check=q.gopher_quality_reason,
                                                config=config.gopher_quality), "Gopher quality rules"),
        document_step("gopher_repetition", partial(reason_step, check=q.gopher_repetition_reason,
                                                   config=config.gopher_repetition),
                      "Gopher repetition rules"),
        document_step("keyword_stuffing", partial(reason_step, check=q.stuffing_reason,
                                                  config=config.stuffing), "keyword lists"),
        document_step("toxic", partial(reason_step, check=toxic.toxic_reason, config=config.toxic),
                      "blocklisted words"),
    ]
    test_texts = list(test_texts)
    if test_texts:
        finder = Decontaminator(test_texts, config.decontam.n, config.decontam.min_words,
                                config.decontam.lowercase)
        steps.append(document_step("decontaminate", partial(decontam_step, finder=finder),
                                   f"{config.decontam.n}-gram overlap with the test set"))
    if config.mask_pii:
        steps.append(document_step("pii", pii_step, "mask emails, phones, IP addresses"))
    steps += [
        document_step("c4_lines", partial(c4_step, config=config.c4), "C4 line filter"),
        corpus_step("exact_dedup", partial(exact_dedup_step, config=config.exact),
                    "SHA-1 of documents and of lines"),
        corpus_step("near_dedup", partial(near_dedup_step, config=config.minhash), "MinHash + LSH"),
    ]
    unknown = set(config.skip) - {s.name for s in steps}
    if unknown:
        raise ValueError(f"skip names unknown steps {sorted(unknown)}; steps are {[s.name for s in steps]}")
    return [s for s in steps if s.name not in config.skip]
