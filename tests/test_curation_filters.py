"""Curation filters on hand-made documents: each rule fires on its positives and not on its
negatives; PII regexes on tricky cases; language ID parity with langid itself."""

import pytest

from minillm.curation import extract, language, pii, quality, toxic
from minillm.curation.decontam import Decontaminator
from minillm.curation.normalize import decode_bytes, normalize_text

PROSE = (
    "The river runs past the old mill and into the town. People of the town fish in it, and "
    "children swim there in summer. In winter the water is cold and the boats stay on the bank. "
    "Travellers say that the bridge is the oldest in the land, and that it was built with stones "
    "carried from the hills by the first farmers of the valley."
)


# --- Gopher quality ------------------------------------------------------------------------

def test_gopher_quality_passes_prose_and_names_each_failure():
    assert quality.gopher_quality_reason(PROSE) is None
    assert "words < 50" in quality.gopher_quality_reason("The cat sat on the mat.")
    long_words = " ".join(["extraordinarilylongwordsequence"] * 60) + " the and"
    assert "mean word length" in quality.gopher_quality_reason(long_words)
    hashes = PROSE + " " + " ".join(["#tag"] * 12)
    assert "symbol/word ratio" in quality.gopher_quality_reason(hashes)
    bullets = "\n".join(f"- the item number {i} of the list and more" for i in range(20))
    assert "bullet lines" in quality.gopher_quality_reason(bullets)
    ellipses = "\n".join(f"the story goes on and on with item {i} ..." for i in range(20))
    assert "ellipsis" in quality.gopher_quality_reason(ellipses, quality.GopherQualityConfig(
        max_symbol_word_ratio=1.0))
    numbers = "the and " + " ".join(str(1000 + i) for i in range(80))
    assert "alphabetic words" in quality.gopher_quality_reason(numbers)
    no_stop = " ".join(["apple banana cherry orange"] * 20)
    assert "stop words" in quality.gopher_quality_reason(no_stop)


def test_gopher_quality_thresholds_are_configurable():
    short = "The cat sat on the mat and looked at the birds in the tree."
    assert quality.gopher_quality_reason(short) is not None
    assert quality.gopher_quality_reason(short, quality.GopherQualityConfig(min_words=5)) is None


# --- Gopher repetition ---------------------------------------------------------------------

def test_gopher_repetition_rules():
    assert quality.gopher_repetition_reason(PROSE) is None
    repeated = "\n".join([PROSE] + ["Click here to read more."] * 4)
    assert "duplicate lines" in quality.gopher_repetition_reason(repeated)
    paragraphs = "\n\n".join(["First a short paragraph here.", "Second one.", "Second one.",
                              "Second one.", "The end of it all."])
    assert "duplicate" in quality.gopher_repetition_reason(paragraphs)
    stuffed_bigram = PROSE + " " + " ".join(["cheap shoes"] * 40)
    reason = quality.gopher_repetition_reason(stuffed_bigram)
    assert reason is not None and "gram" in reason


def test_ngram_fractions_by_hand():
    words = "a b a b a b c".split()
    # top 2-gram "a b" occurs 3 times: 3 * 2 characters of 7
    assert quality.top_ngram_char_fraction(words, 2) == pytest.approx(6 / 7)
    # every word but "c" sits in a repeated 2-gram; "b c" occurs once
    assert quality.duplicate_ngram_char_fraction(words, 2) == pytest.approx(6 / 7)
    assert quality.duplicate_ngram_char_fraction("x y z".split(), 5) == 0.0


# --- C4 lines and keyword stuffing ---------------------------------------------------------

def test_c4_line_filter_keeps_sentences_only():
    page = "Home | News | About\nThe cat sat on the mat today.\nShare: Facebook Twitter\nIt was warm!"
    kept, removed = quality.c4_filter_lines(page)
    assert kept == "The cat sat on the mat today.\nIt was warm!"
    assert removed == ["Home | News | About", "Share: Facebook Twitter"]
    assert quality.c4_page_reason(kept) is not None            # 2 sentences < 3
    assert quality.c4_page_reason(kept, quality.C4Config(min_sentences=2)) is None
    assert "lorem ipsum" in quality.c4_page_reason("Lorem ipsum dolor. A. B. C.")
    assert not quality.c4_line_keep("Enable javascript to see this page.")
    listed, _ = quality.c4_filter_lines("- two red bags\nok", quality.C4Config(keep_list_items=True))
    assert listed == "- two red bags"


def test_keyword_stuffing():
    spam = "Buy shoes, cheap shoes, best shoes deals, shoes discount, shoes price CLICK HERE"
    assert quality.stuffing_reason(PROSE + "\n" + spam + "\n" + spam) is not None
    assert quality.stuffing_reason(PROSE) is None


# --- PII -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("write to alice.smith+news@mail.example.org today", "email"),
    ("mailto:bob_1@example.com", "email"),
    ("call (555) 012-3456 now", "phone"),
    ("call 555-012-3456.", "phone"),
    ("call +1 555 012 3456", "phone"),
    ("call 555.012.3456", "phone"),
    ("ring +44 20 7946 0958", "phone"),
    ("from 192.168.0.1.", "ipv4"),
    ("host 2001:db8::1 is up", "ipv6"),
    ("host 2001:db8:0:0:0:0:2:1 is up", "ipv6"),
    ("loopback ::1 here", "ipv6"),
    ("link fe80::1ff:fe23:4567:890a up", "ipv6"),
    ("mapped ::ffff:192.0.2.128 here", "ipv6"),
])
def test_pii_positives(text, kind):
    masked, counts = pii.mask_pii(text)
    assert counts[kind] == 1 and sum(counts.values()) == 1, (text, masked, counts)
    assert pii.PLACEHOLDERS[kind] in masked


@pytest.mark.parametrize("text", [
    "see https://medium.com/@alice/post for more",       # a handle in a URL is not an email
    "the meeting is at 12:30:45 sharp",                   # a time is not an IPv6 address
    "version 1.2.3.4.5 of the tool",                      # five parts: not an IPv4 address
    "address 999.1.1.1 is invalid",                       # 999 > 255
    "on 2024-09-22 we met",                               # a date is not a phone number
    "the ratio is 3:2:1 today",
    "He paid 25 + 31 = 56 coins for 702 miles.",
    "C++::std and a::b are not addresses",
])
def test_pii_negatives(text):
    masked, counts = pii.mask_pii(text)
    assert sum(counts.values()) == 0, (text, masked)
    assert masked == text


def test_pii_counts_several_items_in_order():
    text = "a@b.co, c@d.org and 10.0.0.1 and 10.0.0.2"
    masked, counts = pii.mask_pii(text)
    assert masked == "<EMAIL>, <EMAIL> and <IPV4> and <IPV4>"
    assert counts == {"email": 2, "phone": 0, "ipv4": 2, "ipv6": 0}


# --- toxic, language, normalize, extract, decontam -----------------------------------------

def test_toxic_blocklist_matches_whole_words_only():
    assert toxic.toxic_reason("What a load of crap.") is not None
    assert toxic.toxic_reason("You IDIOT!") is not None
    assert toxic.toxic_reason("A crappie is a fish; scrap metal is sold here.") is None
    assert toxic.toxic_reason("one damn", toxic.ToxicConfig(min_hits=2)) is None
    with pytest.raises(ValueError, match="blocklist is empty"):
        toxic.toxic_reason("x", toxic.ToxicConfig(blocklist=()))


def test_language_id_matches_langid_and_threshold_is_configurable():
    import langid as langid_package

    texts = [PROSE, "Der Hund schläft im Garten und die Katze spielt mit dem Ball.",
             "El perro duerme en el jardín y el gato juega con la pelota."]
    for text in texts:
        ours = language.detect_language(text)
        langid_package.set_languages(None)
        theirs = language._identifier().__class__.from_modelstring(
            __import__("langid.langid", fromlist=["model"]).model, norm_probs=True).classify(text)
        assert ours[0] == theirs[0] and ours[1] == pytest.approx(theirs[1], abs=1e-9)
    assert language.language_reason(PROSE) is None
    assert language.language_reason(texts[1]).startswith("language: de")
    assert language.language_reason(texts[2], language.LanguageConfig(languages=("en", "es"))) is None
    assert "p=" in language.language_reason(PROSE, language.LanguageConfig(min_probability=1.01))
    assert language.detect_language("1234 5678") == ("", 0.0)


def test_normalize_repairs_and_reports():
    text, changes = normalize_text("caf\u00c3\u00a9  ok\x00\n\n\n\ne\u0301 ")
    assert text == "café ok\n\n\u00e9"
    assert changes == ["mojibake repaired", "Unicode NFC", "control characters removed",
                       "whitespace collapsed"]
    assert normalize_text("already clean") == ("already clean", [])
    with pytest.raises(TypeError, match="decode bytes first"):
        normalize_text(b"bytes")


def test_decode_bytes_handles_non_utf8():
    assert decode_bytes("naïve".encode()) == ("naïve", "utf-8")
    assert decode_bytes(b"caf\xe9") == ("café", "cp1252")
    assert decode_bytes(b"\x81ok")[0].endswith("ok")        # undefined in cp1252: replaced


def test_extraction_drops_furniture_that_the_naive_stripper_keeps():
    page = ("<html><head><title>T</title><script>var x = 1;</script></head><body>"
            "<nav><ul><li><a href='/'>Home</a></li><li><a href='/a'>About</a></li></ul></nav>"
            "<article><p>" + PROSE + "</p><p>The second paragraph tells more about the valley "
            "and the people who live there, their farms and their songs.</p></article>"
            "<footer><p>&copy; 2024 Site. All rights reserved.</p></footer></body></html>")
    naive = extract.strip_tags(page)
    assert "Home" in naive and "All rights reserved" in naive and "var x" not in naive
    main = extract.extract_main_text(page)
    assert PROSE in main and "Home" not in main and "All rights reserved" not in main
    assert extract.extract_main_text("plain text, no tags") == "plain text, no tags"


def test_decontaminator_matches_short_and_long_test_texts():
    long_question = " ".join(f"w{i}" for i in range(20))
    finder = Decontaminator(["Which river flows through Pamnaish?", long_question, "Hi there"], n=13)
    assert finder.match("Q: Which river flows through  Pamnaish? A: none") is not None
    assert finder.match("which river flows through pamnaish") is None          # case matters
    assert Decontaminator(["Which river flows through Pamnaish?"], lowercase=True).match(
        "which river flows through pamnaish") is not None
    assert finder.match("x " + " ".join(f"w{i}" for i in range(5, 18)) + " y") is not None
    assert finder.match(" ".join(f"w{i}" for i in range(5, 17))) is None       # only 12 words
    assert finder.match("Hi there") is None                                     # under min_words
    with pytest.raises(ValueError, match="at least 3"):
        Decontaminator([], n=2)
