"""TinyWorld web crawl: every ground-truth defect label is checked against the text itself."""

import html
import ipaddress
import re
from collections import Counter

import pytest

from minillm.data.tinyworld.crawl import (
    BLOCKLIST,
    LABEL_COLUMNS,
    SPAM_SHOUTS,
    CrawlConfig,
    crawl_dataset,
    duplicate_line_fraction,
    make_crawl,
    sft_test_questions,
)
from minillm.data.tinyworld.foreign import foreign_document
from minillm.data.tinyworld.lexicon import FUNCTION_WORDS

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w+])(?:\+1 )?(?:\(\d{3}\) |\d{3}[ -])\d{3}[ -]\d{4}(?![\w-])")
BLOCKED = re.compile(r"\b(?:" + "|".join(BLOCKLIST) + r")\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def crawl(world):
    return make_crawl(world, CrawlConfig())


@pytest.fixture(scope="module")
def by_id(crawl):
    return {doc.id: doc for doc in crawl}


def shingles(text, n=5):
    """Word 5-grams, written out again here so the label is checked by a second implementation."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def true_jaccard(a, b):
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def english_fraction(text):
    words = re.findall(r"\w+", text.lower())
    return sum(w in FUNCTION_WORDS for w in words) / max(1, len(words))


def ip_counts(text):
    counts = Counter()
    for token in text.split():
        try:
            counts[ipaddress.ip_address(token.strip(",;()")).version] += 1
        except ValueError:
            pass
    return counts


def visible_text(page):
    """Tag-stripped, unescaped, whitespace-normalised text of an HTML page."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_same_seed_gives_identical_crawl_and_seeds_differ(world):
    def dump(crawl):
        return [(d.id, d.url, d.html, d.clean_text, sorted(d.labels.items())) for d in crawl]

    first = dump(make_crawl(world, CrawlConfig(n_docs=300, seed=3)))
    assert first == dump(make_crawl(world, CrawlConfig(n_docs=300, seed=3)))
    other = dump(make_crawl(world, CrawlConfig(n_docs=300, seed=4)))
    assert sum(a[3] == b[3] for a, b in zip(first, other, strict=True)) < 30


def test_every_document_carries_every_label_with_its_type(crawl):
    assert len(crawl) == 2000
    assert len({d.id for d in crawl}) == len({d.url for d in crawl}) == len(crawl)
    for doc in crawl:
        assert set(doc.labels) == set(LABEL_COLUMNS)
        assert doc.labels["language"] in ("en", "es", "de")
        assert doc.labels["format"] in ("html", "text")
        for name in ("spam", "repeated_lines", "gibberish", "toxic", "contaminated", "boilerplate"):
            assert isinstance(doc.labels[name], bool)


def test_exact_duplicates_are_byte_identical_copies_of_an_earlier_original(crawl, by_id):
    position = {doc.id: i for i, doc in enumerate(crawl)}
    originals = [d.clean_text for d in crawl if not d.labels["exact_dup_of"]]
    assert len(originals) == len(set(originals))
    copies = [d for d in crawl if d.labels["exact_dup_of"]]
    assert copies
    for doc in copies:
        original = by_id[doc.labels["exact_dup_of"]]
        assert original.clean_text == doc.clean_text
        assert position[original.id] < position[doc.id]
        assert original.labels["exact_dup_of"] == ""


def test_near_duplicates_have_the_labelled_jaccard_within_range(crawl, by_id):
    near = [d for d in crawl if d.labels["near_dup_of"]]
    assert len(near) == round(0.06 * 2000)
    for doc in near:
        source = by_id[doc.labels["near_dup_of"]]
        similarity = true_jaccard(source.clean_text, doc.clean_text)
        assert doc.labels["near_dup_jaccard"] == pytest.approx(similarity, abs=1e-12)
        assert 0.7 <= similarity and doc.clean_text != source.clean_text
        fraction = doc.labels["near_dup_edit_fraction"]
        n_words = len(source.clean_text.split())
        assert 0 < fraction <= 0.05
        # Swaps keep the bag of words and each insertion or deletion changes it by one word.
        changed = Counter(source.clean_text.split()) - Counter(doc.clean_text.split())
        added = Counter(doc.clean_text.split()) - Counter(source.clean_text.split())
        assert sum(changed.values()) + sum(added.values()) <= round(fraction * n_words)
    for doc in crawl:
        if not doc.labels["near_dup_of"]:
            assert doc.labels["near_dup_jaccard"] == doc.labels["near_dup_edit_fraction"] == 0.0


def test_unlabelled_documents_are_not_near_duplicates_of_each_other(crawl):
    originals = [d for d in crawl if not (d.labels["exact_dup_of"] or d.labels["near_dup_of"])][
        :300
    ]
    sets = [shingles(d.clean_text) for d in originals]
    worst = max(len(a & b) / len(a | b) for i, a in enumerate(sets) for b in sets[i + 1 :])
    assert worst < 0.5


def test_pii_counts_match_what_a_regex_finds(crawl):
    with_pii = 0
    for doc in crawl:
        ips = ip_counts(doc.clean_text)
        found = (
            len(EMAIL.findall(doc.clean_text)),
            len(PHONE.findall(doc.clean_text)),
            ips[4],
            ips[6],
        )
        labelled = tuple(doc.labels[k] for k in ("pii_email", "pii_phone", "pii_ipv4", "pii_ipv6"))
        assert found == labelled, (doc.id, doc.clean_text)
        with_pii += sum(labelled) > 0
    assert with_pii > 0


def test_foreign_documents_are_whole_pages_without_english_grammar_words(crawl):
    foreign = [d for d in crawl if d.labels["language"] != "en"]
    english = [d for d in crawl if d.labels["language"] == "en" and not d.labels["gibberish"]]
    assert {d.labels["language"] for d in foreign} == {"es", "de"}
    for doc in foreign:
        assert english_fraction(doc.clean_text) < 0.02, doc.clean_text
        assert f'lang="{doc.labels["language"]}"' in doc.html or doc.labels["format"] == "text"
    assert sum(english_fraction(d.clean_text) > 0.15 for d in english) > 0.95 * len(english)


def test_foreign_document_rejects_unknown_language():
    import random

    with pytest.raises(ValueError, match="unknown foreign language"):
        foreign_document(random.Random(0), "fr", ["Velora"], ["Brenno"])


def test_toxic_label_matches_the_blocklist(crawl):
    assert all(" " not in word and word.islower() for word in BLOCKLIST)
    for doc in crawl:
        assert bool(BLOCKED.search(doc.clean_text)) == doc.labels["toxic"], doc.id
    assert any(d.labels["toxic"] for d in crawl)


def test_contaminated_documents_copy_a_test_question_and_no_other_does(world):
    crawl = make_crawl(world, CrawlConfig(n_docs=400, seed=1, p_contaminated=0.05))
    questions = [q for q, _ in sft_test_questions(world)]
    assert len(questions) > 500
    for doc in crawl:
        copied = any(q in doc.clean_text for q in questions)
        assert copied == doc.labels["contaminated"], doc.id
    assert sum(d.labels["contaminated"] for d in crawl) >= 0.04 * 400


def test_clean_text_is_what_the_page_shows_between_its_boilerplate(crawl):
    for doc in crawl:
        if doc.labels["format"] == "html":
            assert " ".join(doc.clean_text.split()) in visible_text(doc.html), doc.id
        else:
            assert doc.clean_text in doc.html


def test_html_escapes_text_and_boilerplate_label_matches_the_markup(crawl):
    bare_ampersand = re.compile(r"&(?!(?:[a-z]+|#x?[0-9a-f]+);)")
    assert any("<" in d.clean_text or "&" in d.clean_text for d in crawl)
    for doc in crawl:
        text_only = re.sub(r"<[^>]+>", " ", doc.html)
        assert "<" not in text_only and ">" not in text_only, doc.id
        assert not bare_ampersand.search(text_only), doc.id
        markers = ("<nav", "cookie-banner", "<footer", 'id="footer"', "forum-footer")
        assert doc.labels["boilerplate"] == any(m in doc.html for m in markers), doc.id
    assert 0 < sum(d.labels["boilerplate"] for d in crawl) < len(crawl)


def test_spam_repetition_and_gibberish_labels_match_the_text(crawl):
    for doc in crawl:
        assert doc.labels["spam"] == any(shout in doc.clean_text for shout in SPAM_SHOUTS)
        fraction = duplicate_line_fraction(doc.clean_text)
        assert doc.labels["repeated_lines"] == (fraction >= 0.3), doc.id
        if doc.labels["gibberish"]:
            assert doc.labels["source_id"] == "" and not doc.labels["is_clean"]
            assert not any(line.endswith((".", "!", "?")) for line in doc.clean_text.split("\n"))


def test_is_clean_summarises_the_removable_defects(crawl):
    removable = (
        "exact_dup_of",
        "near_dup_of",
        "spam",
        "repeated_lines",
        "gibberish",
        "toxic",
        "contaminated",
    )
    for doc in crawl:
        unclean = any(doc.labels[k] for k in removable) or doc.labels["language"] != "en"
        assert doc.labels["is_clean"] == (not unclean)
    pii_only = [
        d
        for d in crawl
        if d.labels["pii_email"] + d.labels["pii_phone"] > 0 and d.labels["is_clean"]
    ]
    assert pii_only, "PII alone must not make a page unclean: masking repairs it"


def test_defect_rates_match_the_config(crawl):
    n = len(crawl)
    config = CrawlConfig()
    rates = {
        "exact_dup": sum(bool(d.labels["exact_dup_of"]) for d in crawl) / n,
        "near_dup": sum(bool(d.labels["near_dup_of"]) for d in crawl) / n,
        "foreign": sum(d.labels["language"] != "en" for d in crawl) / n,
        "pii": sum(
            d.labels["pii_email"]
            + d.labels["pii_phone"]
            + d.labels["pii_ipv4"]
            + d.labels["pii_ipv6"]
            > 0
            for d in crawl
        )
        / n,
    }
    for name in ("spam", "repeated_lines", "gibberish", "toxic", "contaminated"):
        rates[name] = sum(d.labels[name] for d in crawl) / n
    for name, rate in rates.items():
        expected = getattr(config, f"p_{name}")
        assert abs(rate - expected) <= 0.25 * expected + 0.005, (name, rate, expected)
    assert 0.5 < sum(d.labels["is_clean"] for d in crawl) / n < 0.8


def test_html_fraction_sets_the_share_of_html_pages(world):
    plain = make_crawl(world, CrawlConfig(n_docs=200, html_fraction=0.0))
    assert all(d.labels["format"] == "text" and "<html" not in d.html for d in plain)
    mixed = make_crawl(world, CrawlConfig(n_docs=400, html_fraction=0.5))
    assert 0.4 < sum(d.labels["format"] == "html" for d in mixed) / 400 < 0.6


def test_crawl_dataset_has_one_column_per_label(world):
    dataset = crawl_dataset(world, CrawlConfig(n_docs=150, seed=2))
    assert dataset.column_names == ["id", "url", "html", "clean_text", *LABEL_COLUMNS]
    assert len(dataset) == 150
    assert dataset.features["spam"].dtype == "bool"
    assert dataset.features["pii_email"].dtype == "int32"
    assert dataset.features["near_dup_jaccard"].dtype == "float64"
    reference = make_crawl(world, CrawlConfig(n_docs=150, seed=2))
    assert dataset["is_clean"] == [d.labels["is_clean"] for d in reference]
    assert len(dataset.filter(lambda row: row["is_clean"])) == sum(
        d.labels["is_clean"] for d in reference
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_docs": 0}, "n_docs"),
        ({"p_spam": 1.5}, "p_spam"),
        ({"p_exact_dup": 0.4, "p_near_dup": 0.3}, "originals outnumber"),
        ({"p_foreign": 0.3, "p_gibberish": 0.3}, "most pages are English"),
        ({"near_dup_max_edit_fraction": 0.5}, "near_dup_max_edit_fraction"),
    ],
)
def test_bad_config_raises_a_helpful_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CrawlConfig(**kwargs)


def test_overlays_too_frequent_for_the_english_pages_raise(world):
    with pytest.raises(ValueError, match="p_spam is too high"):
        make_crawl(world, CrawlConfig(n_docs=100, p_spam=0.95))
