"""Stage 1, data curation: from a raw web crawl to a clean pretraining corpus.

One short module per step family, each usable on its own:

=================  ================================================================
``extract``        HTML -> main text (trafilatura), and a naive tag-stripper to compare
``normalize``      bytes -> str, mojibake repair (ftfy), NFC, control characters, spaces
``language``       language identification (langid), configurable threshold
``quality``        Gopher quality and repetition rules, C4 line filter, keyword stuffing
``pii``            mask emails, phone numbers, IPv4/IPv6 addresses, with counts
``toxic``          blocklist filter
``dedup``          exact deduplication of documents and of boilerplate lines (SHA-1)
``minhash``        near-duplicates: MinHash + LSH in vectorized numpy, the S-curve
``decontam``       drop pages sharing long n-grams with the test set
``classifier``     a hashed n-gram logistic-regression quality classifier
``pipeline``       composable steps over ``datasets.Dataset``, exclusion log, statistics
``steps``          the standard steps and ``CurationConfig``
``evaluate``       precision / recall against the TinyWorld crawl's ground truth
``stage``          per-profile configs and the ``curated_corpus`` artifact
=================  ================================================================

    from minillm import artifacts
    corpus = artifacts.get("curated_corpus")
    text = (corpus.path / "train.txt").read_text()
"""
