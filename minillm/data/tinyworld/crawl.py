"""A raw "web crawl" of TinyWorld, with every defect labelled, for scoring curation filters.

Clean TinyWorld documents are corrupted the way crawled web text is, then wrapped in web pages:

- content defects in the main text: keyword-stuffing spam, repeated lines, gibberish pages, PII
  (emails, phone numbers, IPv4/IPv6 addresses), whole pages in Spanish or German (`foreign.py`),
  mild toxic language, and SFT test questions copied verbatim (contamination);
- duplicates: exact copies on other URLs, and near-duplicates (a few % of words swapped,
  inserted or deleted, maybe two paragraphs swapped, a different site template around them);
- page furniture: HTML in five site "skins" with nav menus, cookie banners, sidebars, share
  buttons and footers, or plain text framed by the same boilerplate as lines.

`clean_text` is what an ideal extractor returns: the main text, one paragraph per line, content
defects included (later filters must judge them), page furniture excluded. `labels` holds:

    exact_dup_of, near_dup_of   id of the earlier original with the same / nearly the same text
    near_dup_jaccard            Jaccard similarity of word 5-gram shingles to that original
    near_dup_edit_fraction      word edits applied / words of the original (both 0.0 if no copy)
    spam, gibberish, toxic      bools (toxic: a BLOCKLIST word is present)
    repeated_lines              duplicate_line_fraction(clean_text) >= 0.3 (Gopher's threshold)
    contaminated                clean_text contains an SFT test question verbatim
    pii_email, pii_phone, pii_ipv4, pii_ipv6   how many of each clean_text contains
    language                    "en", "es" or "de"
    boilerplate                 the page carries nav/cookie/footer furniture around the text
    is_clean                    no defect a good pipeline removes: boilerplate and PII alone
                                leave a page clean, because extraction and masking repair them
    source_id, format           TinyWorld document id ("" if generated), "html" or "text"

Shingles (`word_shingles`) are lowercase word 5-grams over `\\w+` runs, across line breaks.
Originals always come before their copies, so "keep the first" deduplication matches labels.

    >>> from minillm.data.tinyworld import make_world
    >>> crawl = make_crawl(make_world(0), CrawlConfig(n_docs=200, seed=0))
    >>> 0 < sum(doc.labels["is_clean"] for doc in crawl) < len(crawl)
    True
"""

from __future__ import annotations

import html
import itertools
import random
import re
from dataclasses import dataclass, field, fields

from minillm.data.tinyworld.corpus import iter_documents
from minillm.data.tinyworld.foreign import FOREIGN_LANGUAGES, foreign_document
from minillm.data.tinyworld.sft import make_sft_examples
from minillm.data.tinyworld.world import World

SHINGLE_SIZE = 5
REPEATED_LINES_THRESHOLD = 0.3  # duplicate-line fraction that Gopher's repetition rule rejects
INSULTS = ("idiot", "moron", "jerk", "loser", "dumbass", "bastard")
PROFANITY = ("stupid", "crap", "crappy", "damn", "shit", "pissed")
BLOCKLIST: tuple[str, ...] = INSULTS + tuple(word + "s" for word in INSULTS) + PROFANITY
TOXIC_SENTENCES = (
    "Anyone who believes this is a complete {insult}.", "Shut up, you {insult}.",
    "What a load of crap.", "Only {insult}s would write something this stupid.",
    "I am so pissed off at these {insult}s.", "Damn, this is the worst page on the whole site.",
    "Honestly, the author is a {insult} and this is shit.", "Crappy article, {insult}.",
)
SPAM_PHRASES = (
    "buy {k}", "cheap {k}", "best {k} deals", "{k} discount", "{k} free shipping", "{k} for sale",
    "order {k} online", "{k} price", "{k} near me", "top 10 {k}", "{k} review", "{k} coupon code",
)
SPAM_SHOUTS = ("CLICK HERE >>>", "LIMITED OFFER!!!", "Deals & Offers", "100% FREE", "$$$ WIN $$$")
CALLS_TO_ACTION = ("Click here to read more.", "Subscribe to our newsletter!", "Continue reading")
FILLER_WORDS = ("really", "also", "quite", "still", "just", "indeed", "often", "perhaps", "then")
GIBBERISH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#%&*+=~^<>|_/"
CONTAMINATION_FORMATS = ("Q: {q} A: {a}", "Quiz: {q} (Answer: {a})", "{q} The answer is {a}")
SKINS = ("blog", "news", "wiki", "forum", "bare")
NAV = ("Home", "News", "About", "Contact", "Archive", "Topics", "Subscribe", "Log in")
SITE_WORDS = (
    ("daily", "tiny", "river", "north", "open", "green", "silver", "old", "bright", "lantern"),
    ("news", "times", "notes", "wiki", "forum", "post", "journal", "review", "herald", "pages"),
)
LABEL_COLUMNS = (
    "exact_dup_of", "near_dup_of", "near_dup_jaccard", "near_dup_edit_fraction", "spam",
    "repeated_lines", "gibberish", "pii_email", "pii_phone", "pii_ipv4", "pii_ipv6", "language",
    "toxic", "contaminated", "boilerplate", "is_clean", "source_id", "format",
)
OVERLAYS = ("contaminated", "pii", "toxic", "spam", "repeated_lines")  # defects added to English


@dataclass
class CrawlConfig:
    """Crawl size and the fraction of documents carrying each defect (overlaps allowed)."""

    n_docs: int = 2000
    seed: int = 0
    p_exact_dup: float = 0.08
    p_near_dup: float = 0.06
    p_spam: float = 0.05
    p_repeated_lines: float = 0.04
    p_gibberish: float = 0.03
    p_pii: float = 0.10
    p_foreign: float = 0.06
    p_toxic: float = 0.04
    p_contaminated: float = 0.05  # a floor: TinyWorld dialogues already ask some test questions
    html_fraction: float = 1.0  # share of documents delivered as HTML pages (rest as plain text)
    near_dup_min_jaccard: float = 0.7
    near_dup_max_edit_fraction: float = 0.05

    def __post_init__(self):
        if not isinstance(self.n_docs, int) or self.n_docs < 1:
            raise ValueError(f"n_docs must be a positive int, got {self.n_docs!r}")
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if (name.startswith("p_") or name.endswith(("fraction", "jaccard"))) and not (
                0.0 <= value <= 1.0
            ):
                raise ValueError(f"{name} is a fraction in [0, 1], got {value}")
        if self.p_exact_dup + self.p_near_dup > 0.5:
            raise ValueError("p_exact_dup + p_near_dup must be <= 0.5: originals outnumber copies")
        if self.p_foreign + self.p_gibberish > 0.5:
            raise ValueError("p_foreign + p_gibberish must be <= 0.5 so most pages are English")
        if not 0.0 < self.near_dup_max_edit_fraction <= 0.2:
            raise ValueError("near_dup_max_edit_fraction must be in (0, 0.2]: near-dups are small")


@dataclass
class CrawlDocument:
    id: str
    url: str
    html: str  # the raw page as crawled (HTML, or plain text when labels["format"] == "text")
    clean_text: str  # ground truth main text, one paragraph per line
    labels: dict = field(default_factory=dict)


def word_shingles(text: str, size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """Word `size`-grams of the lowercased text; a text shorter than `size` words is one shingle."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def duplicate_line_fraction(text: str) -> float:
    """Share of non-blank lines that repeat an earlier line (Gopher's repetition statistic)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return 1.0 - len(set(lines)) / len(lines) if lines else 0.0


# --- content defects: each makes new lines for a page ----------------------------------------


def _insert(lines: list[str], new: list[str], rng: random.Random) -> list[str]:
    out = list(lines)
    for line in new:
        out.insert(rng.randint(0, len(out)), line)
    return out


def spam_lines(keywords: list[str], rng: random.Random, n_words: int) -> list[str]:
    """Keyword-stuffing lines with about `n_words` words in all."""
    lines, total = [], 0
    while total < n_words:
        phrases = [rng.choice(SPAM_PHRASES).format(k=rng.choice(keywords)) for _ in range(9)]
        line = ", ".join(phrases[: rng.randint(5, 9)]) + " " + rng.choice(SPAM_SHOUTS)
        lines.append(line[0].upper() + line[1:])
        total += len(line.split())
    return lines


def toxic_lines(rng: random.Random) -> list[str]:
    sentences = rng.sample(TOXIC_SENTENCES, rng.randint(1, 3))
    return [sentence.format(insult=rng.choice(INSULTS)) for sentence in sentences]


def pii_lines(people: list[str], rng: random.Random) -> tuple[list[str], dict[str, int]]:
    """1-4 sentences that each leak one email, phone number or IP address, and the counts."""
    counts = {"pii_email": 0, "pii_phone": 0, "pii_ipv4": 0, "pii_ipv6": 0}
    lines = []
    for _ in range(rng.randint(1, 4)):
        kind, name = rng.choice(tuple(counts)), rng.choice(people)
        counts[kind] += 1
        if kind == "pii_email":
            domain = rng.choice(("example.com", "mail.example.org", "example.net"))
            value = f"{name.lower()}{rng.choice('._')}{rng.randint(1, 99)}@{domain}"
            line = rng.choice(("You can reach {n} at {x} for details.", "Write to {x}, says {n}."))
        elif kind == "pii_phone":
            a, b = rng.randint(10, 99), rng.randint(1000, 9999)
            form = rng.choice(("(555) 0{a}-{b}", "555-0{a}-{b}", "+1 555 0{a} {b}"))
            value = form.format(a=a, b=b)
            line = rng.choice(("Call {n} on {x} after six.", "Phone: {x} (ask for {n})"))
        elif kind == "pii_ipv4":
            value = ".".join(str(rng.randint(1, 254)) for _ in range(4))
            line = "{n} logged in from {x} yesterday."
        else:  # six groups after the 2001:db8 documentation prefix make eight; fewer need "::"
            groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(rng.choice((2, 3, 4, 6)))]
            value = "2001:db8:" + (":" if len(groups) < 6 else "") + ":".join(groups)
            line = "The server of {n} answers on {x} today."
        lines.append(line.format(n=name, x=value))
    return lines, counts


def repeat_lines(lines: list[str], original: list[str], rng: random.Random) -> list[str]:
    """Copy one original line (or a call to action) until 40-70% of lines are repeats."""
    repeated = rng.choice(original) if rng.random() < 0.5 else rng.choice(CALLS_TO_ACTION)
    target, out = rng.uniform(0.4, 0.7), list(lines)
    while duplicate_line_fraction("\n".join(out)) < target:
        out.insert(rng.randint(0, len(out)), repeated)
    return out


def gibberish_lines(vocab: list[str], chain: dict[str, list[str]], rng: random.Random) -> list[str]:
    """Random characters, random words, or an order-1 Markov chain over TinyWorld words."""
    mode, lines = rng.choice(("chars", "salad", "markov")), []
    for _ in range(rng.randint(3, 8)):
        n_words = rng.randint(8, 24)
        if mode == "chars":
            sizes = [rng.randint(2, 12) for _ in range(n_words)]
            words = ["".join(rng.choices(GIBBERISH_CHARS, k=size)) for size in sizes]
        elif mode == "salad":
            words = rng.choices(vocab, k=n_words)
        else:
            words = [rng.choice(vocab)]
            while len(words) < n_words:
                words.append(rng.choice(chain.get(words[-1]) or vocab))
        # Junk runs on: no line ends like a sentence, which C4-style line filters pick up.
        lines.append(" ".join(words).rstrip(".!?\"'"))
    return lines


def near_duplicate(
    lines: list[str], rng: random.Random, min_jaccard: float, max_edit_fraction: float
) -> tuple[list[str], float, float] | None:
    """Swap, insert or delete a few % of the words and maybe swap two paragraphs. Returns (lines,
    jaccard, edit fraction), or None when no edit keeps min_jaccard <= jaccard < 1."""
    source = "\n".join(lines)
    source_shingles, n_words = word_shingles(source), len(source.split())
    if n_words == 0 or 1 / n_words > max_edit_fraction:
        return None
    for attempt in range(8):  # each retry makes fewer edits
        n_edits = max(1, int(rng.uniform(0.01, max_edit_fraction) * n_words / (attempt + 1)))
        edited = [line.split() for line in lines]
        if len(edited) > 1 and rng.random() < 0.5:
            i, j = rng.sample(range(len(edited)), 2)
            edited[i], edited[j] = edited[j], edited[i]
        for _ in range(n_edits):
            editable = [words for words in edited if len(words) > 1]
            if not editable:
                return None
            words = rng.choice(editable)
            k, op = rng.randrange(len(words) - 1), rng.choice(("swap", "insert", "delete"))
            if op == "swap":
                words[k], words[k + 1] = words[k + 1], words[k]
            elif op == "insert":
                words.insert(k + 1, rng.choice(FILLER_WORDS))
            else:
                del words[k]
        text = "\n".join(" ".join(words) for words in edited)
        similarity = jaccard(source_shingles, word_shingles(text))
        if min_jaccard <= similarity < 1.0:  # < 1: the shingles must see the edit
            return text.split("\n"), similarity, n_edits / n_words
    return None


# --- page furniture: sites, HTML skins and plain-text boilerplate ----------------------------


@dataclass(frozen=True)
class Site:
    name: str
    domain: str
    skin: str  # one of SKINS; a site always uses the same template, as real sites do
    language: str


def make_sites(rng: random.Random, n_english: int = 25, n_per_foreign: int = 4) -> list[Site]:
    combos = list(itertools.product(*SITE_WORDS))
    rng.shuffle(combos)
    languages = ["en"] * n_english + [x for x in FOREIGN_LANGUAGES for _ in range(n_per_foreign)]
    sites = []
    for i, ((first, second), language) in enumerate(zip(combos, languages, strict=False)):
        tld = rng.choice(("com", "net", "org")) if language == "en" else language
        name, domain = f"{first.title()} {second.title()}", f"www.{first}{second}.{tld}"
        sites.append(Site(name, domain, SKINS[i % len(SKINS)], language))
    return sites


# One template per skin. The main text is one contiguous block in every skin (what extraction
# must find); everything around it is boilerplate. The forum skin uses <br> instead of <p>.
SKIN_BODIES = {
    "blog": (
        '<header class="site-header"><a class="logo" href="/">{site}</a>{nav}</header>{cookie}\n'
        '<main><article><h1>{headline}</h1><p class="meta">Posted by {author} on {date}</p>\n'
        "{main}\n</article>"
        '<aside class="sidebar"><h3>Popular posts</h3>{popular}</aside></main>\n'
        "<footer>{footer}</footer>"
    ),
    "news": (
        '<div id="page"><div class="topbar">{nav}</div>{cookie}<div class="content">\n'
        '<h1 class="headline">{headline}</h1><div class="byline">By {author} | {date}</div>\n'
        '<div class="story-body">{main}</div>\n<div class="share-buttons">Share: '
        '<a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a></div>\n'
        '<div class="related"><h4>Related stories</h4>{popular}</div></div>\n'
        '<div id="footer">{footer}</div></div>'
    ),
    "wiki": (
        '<div id="mw-panel"><h3>Navigation</h3>{nav}</div>{cookie}<div id="content">\n'
        '<h1 id="firstHeading">{headline}</h1>'
        '<div id="siteSub">From {site}, the free encyclopedia</div>\n'
        '<div id="bodyContent">{main}</div>\n'
        '<div id="catlinks">Categories: <a href="/c">{headline}</a></div></div>\n'
        '<div id="footer"><p>This page was last edited on {date}. '
        "Text is available under a Creative Commons licence.</p></div>"
    ),
    "forum": (
        '<div class="forum-header"><a href="/">Forum index</a> &raquo; '
        '<a href="/board">General</a>{nav}</div>{cookie}\n'
        '<div class="thread"><h2 class="thread-title">{headline}</h2><div class="post">\n'
        '<div class="post-author"><b>{author}</b><br>Posts: {posts}</div>\n'
        '<div class="post-body">{main}</div>\n<div class="post-actions"><a href="#">Reply</a> '
        '<a href="#">Quote</a> <a href="#">Report</a></div></div></div>\n'
        '<div class="forum-footer">Powered by miniBB &copy; {year}</div>'
    ),
    "bare": "<h1>{headline}</h1>\n{main}",
}
COOKIE_BANNER = (
    '<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your '
    'experience. By continuing you agree to our <a href="/privacy">Cookie Policy &amp; Privacy '
    "Notice</a>.</p><button onclick=\"track('accept')\">Accept all</button></div>"
)


def _links(labels: list[str]) -> str:
    items = "".join(f'<li><a href="/{i}">{html.escape(x)}</a></li>' for i, x in enumerate(labels))
    return f"<ul>{items}</ul>"


def render_html(
    site: Site, headline: str, lines: list[str], url: str, rng: random.Random, people: list[str]
) -> tuple[str, bool]:
    """The page as a crawler fetches it, and whether it carries boilerplate (nav, banners...)."""
    e = html.escape
    year = rng.randint(2012, 2024)
    separator = "<br>\n" if site.skin == "forum" else "\n"
    fill = {
        "site": e(site.name), "headline": e(headline), "author": e(rng.choice(people)),
        "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "year": year,
        "main": separator.join(e(x) if site.skin == "forum" else f"<p>{e(x)}</p>" for x in lines),
        "nav": f"<nav>{_links(list(NAV[: rng.randint(4, len(NAV))]))}</nav>",
        "cookie": COOKIE_BANNER if rng.random() < 0.5 else "",
        "popular": _links([f"{rng.randint(3, 12)} things to know about {name}"
                           for name in rng.sample(people, 4)]),
        "footer": f"<p>&copy; {year} {e(site.name)}. All rights reserved.</p><p><a href="
                  '"/terms">Terms &amp; Conditions</a> | <a href="/privacy">Privacy</a></p>',
        "posts": rng.randint(1, 5000),
    }
    head = (
        f'<!DOCTYPE html>\n<html lang="{site.language}">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{e(headline)} | {e(site.name)}</title>\n<link rel="canonical" href="{e(url)}">\n'
        "<script>window.dataLayer = []; function track(e) { dataLayer.push(e); }</script>\n"
        "</head>\n<body>\n"
    )
    body = SKIN_BODIES[site.skin].format(**fill)
    return head + body + "\n</body>\n</html>\n", site.skin != "bare"


def render_text(site: Site, lines: list[str], rng: random.Random) -> tuple[str, bool]:
    """A plain-text page: the main lines, sometimes framed by boilerplate lines."""
    top = [f"{site.name} | " + " | ".join(NAV[:5])] if rng.random() < 0.5 else []
    top += ["This website uses cookies. Accept all | Manage settings"] if rng.random() < 0.3 else []
    bottom = ["Share this: Facebook Twitter Email"] if rng.random() < 0.4 else []
    if rng.random() < 0.5:
        bottom.append(f"\u00a9 {rng.randint(2012, 2024)} {site.name}. All rights reserved.")
    return "\n".join(top + lines + bottom), bool(top or bottom)


# --- contamination source --------------------------------------------------------------------


def sft_test_questions(world: World) -> list[tuple[str, str]]:
    """(question, reply) of every example in the default SFT test set: its first user turn and
    the assistant turn after it. A page that copies such a question verbatim is contaminated."""
    pairs = set()
    for example in make_sft_examples(world, split="test"):
        turns = [m["content"] for m in example.messages if m["role"] != "system"]
        pairs.add((turns[0], turns[1]))
    return sorted(pairs)


class QuestionFinder:
    """Finds any of many questions verbatim in a text, fast: candidates come by a short prefix."""

    def __init__(self, questions: list[str]):
        self.prefix_len = min(12, min((len(q) for q in questions), default=12))
        self.by_prefix: dict[str, list[str]] = {}
        for question in questions:
            self.by_prefix.setdefault(question[: self.prefix_len], []).append(question)

    def find(self, text: str) -> str | None:
        for match in re.finditer(r"(?<!\w)\S", text):  # a question starts at a word boundary
            start = match.start()
            for question in self.by_prefix.get(text[start : start + self.prefix_len], ()):
                if text.startswith(question, start):
                    return question
        return None


# --- assembling the crawl --------------------------------------------------------------------


@dataclass
class _Page:
    lines: list[str]
    headline: str
    labels: dict
    copy_of: int = -1  # index of the original page, for exact and near duplicates


def _labels(language: str, source_id: str = "", **changes) -> dict:
    labels = dict.fromkeys(LABEL_COLUMNS, False)
    labels.update(exact_dup_of="", near_dup_of="", near_dup_jaccard=0.0, near_dup_edit_fraction=0.0)
    labels.update(pii_email=0, pii_phone=0, pii_ipv4=0, pii_ipv6=0, format="html")
    labels.update(language=language, source_id=source_id, **changes)
    return labels


def _plan_counts(config: CrawlConfig) -> dict[str, int]:
    n = config.n_docs
    counts = {"exact": round(config.p_exact_dup * n), "near": round(config.p_near_dup * n)}
    n_unique = n - counts["exact"] - counts["near"]
    # Exact copies inherit their original's defects, so originals get each defect at a slightly
    # lower rate; over the whole crawl the share then comes out at the configured rate.
    scale = n * n_unique / max(1, n - counts["near"])
    for name in ("foreign", "gibberish", *OVERLAYS):
        counts[name] = round(getattr(config, f"p_{name}") * scale)
    counts["english"] = n_unique - counts["foreign"] - counts["gibberish"]
    for name in OVERLAYS:
        if counts[name] > counts["english"]:
            raise ValueError(f"p_{name} is too high: only {counts['english']} English pages exist")
    return counts


def _english_page(doc, overlays: set[str], ctx: dict, rng: random.Random) -> _Page:
    original = [line.strip() for line in doc.text.split("\n") if line.strip()]
    lines, labels = list(original), _labels("en", doc.id)
    if "contaminated" in overlays:
        question, answer = rng.choice(ctx["questions"])
        block = rng.choice(CONTAMINATION_FORMATS).format(q=question, a=answer).split("\n")
        position = rng.randint(0, len(lines))
        lines[position:position] = block  # one block, so a multi-line question stays verbatim
    if "pii" in overlays:
        new, counts = pii_lines(ctx["people"], rng)
        lines = _insert(lines, new, rng)
        labels.update(counts)
    if "toxic" in overlays:
        lines, labels["toxic"] = _insert(lines, toxic_lines(rng), rng), True
    if "spam" in overlays:
        keywords = list(doc.subjects) or rng.sample(ctx["places"], 2)
        n_words = int(len(" ".join(lines).split()) * rng.uniform(1.0, 1.5))
        lines, labels["spam"] = _insert(lines, spam_lines(keywords, rng, n_words), rng), True
    if "repeated_lines" in overlays:
        lines = repeat_lines(lines, original, rng)  # labelled from the text in _finish
    return _Page(lines, " and ".join(doc.subjects[:2]) or doc.genre.title(), labels)


def _word_model(pages: list[_Page], people: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Vocabulary and order-1 successor lists of some defect-free pages, for Markov junk."""
    chain: dict[str, list[str]] = {}
    for page in pages:
        for current, following in itertools.pairwise(" ".join(page.lines).split()):
            chain.setdefault(current, []).append(following)
    return sorted(set(chain) | set(people)), chain


def make_crawl(world: World, config: CrawlConfig | None = None) -> list[CrawlDocument]:
    """The labelled crawl for `config` (default CrawlConfig()); same world and seed, same bytes."""
    config = config or CrawlConfig()
    rng = random.Random(f"tinyworld-crawl-{config.seed}")
    counts = _plan_counts(config)
    allowed = world.allowed("train")  # held-out names stay out, except in copied test questions
    people = [e.name for e in world.by_kind("person") if e.name in allowed]
    places = [e.name for k in ("city", "country") for e in world.by_kind(k) if e.name in allowed]
    questions = sft_test_questions(world)
    finder = QuestionFinder([question for question, _ in questions])
    ctx = {"people": people, "places": places, "questions": questions}

    kinds = ["en"] * counts["english"] + ["gibberish"] * counts["gibberish"]
    kinds += [FOREIGN_LANGUAGES[i % len(FOREIGN_LANGUAGES)] for i in range(counts["foreign"])]
    rng.shuffle(kinds)
    english = [i for i, kind in enumerate(kinds) if kind == "en"]
    docs = iter_documents(world, split="train", seed=config.seed, n_docs=counts["english"])
    doc_of = dict(zip(english, docs, strict=True))
    overlays: dict[int, set[str]] = {i: set() for i in english}
    # Dialogue and Q&A pages sometimes ask a test question on their own; injection tops them up.
    natural = {i for i in english if finder.find(doc_of[i].text)}
    candidates = [i for i in english if i not in natural]
    n_inject = min(len(candidates), max(0, counts["contaminated"] - len(natural)))
    for name in OVERLAYS:
        pool, k = (candidates, n_inject) if name == "contaminated" else (english, counts[name])
        for i in rng.sample(pool, k):
            overlays[i].add(name)

    pages: list[_Page] = [_Page([], "", {})] * len(kinds)
    for i, kind in enumerate(kinds):
        if kind == "en":
            pages[i] = _english_page(doc_of[i], overlays[i], ctx, rng)
        elif kind in FOREIGN_LANGUAGES:
            lines = foreign_document(rng, kind, people, places).split("\n")
            headline = f"{rng.choice(places)} - {'Noticias' if kind == 'es' else 'Nachrichten'}"
            pages[i] = _Page(lines, headline, _labels(kind))
    plain = [i for i in english if not overlays[i] and i not in natural]  # pages with no defect
    vocab, chain = _word_model([pages[i] for i in plain[:50]], people)
    for i in (i for i, kind in enumerate(kinds) if kind == "gibberish"):
        headline = " ".join(rng.choices(vocab, k=3)).title()
        lines = gibberish_lines(vocab, chain, rng)
        pages[i] = _Page(lines, headline, _labels("en", gibberish=True))

    n_unique = len(pages)
    for _ in range(counts["exact"]):
        i = rng.randrange(n_unique)
        pages.append(_Page(list(pages[i].lines), pages[i].headline, dict(pages[i].labels), i))
    for _ in range(counts["near"]):
        for _attempt in range(50):
            i = rng.choice(plain) if plain else -1
            edited = i >= 0 and near_duplicate(
                pages[i].lines, rng, config.near_dup_min_jaccard, config.near_dup_max_edit_fraction
            )
            if edited:
                break
        else:
            raise ValueError("could not make near-duplicates: lower p_near_dup or raise n_docs")
        lines, similarity, fraction = edited
        labels = _labels("en", pages[i].labels["source_id"], near_dup_jaccard=similarity,
                         near_dup_edit_fraction=fraction)
        pages.append(_Page(lines, pages[i].headline, labels, i))

    # Originals keep their order; each copy lands somewhere after its original.
    def key(i: int) -> float:
        original = pages[i].copy_of
        return float(i) if original < 0 else original + 0.5 + rng.random() * (n_unique - original)

    keys = [key(i) for i in range(len(pages))]
    order = sorted(range(len(pages)), key=keys.__getitem__)
    return _finish(pages, order, config, finder, people, rng)


def _finish(pages, order, config, finder, people, rng) -> list[CrawlDocument]:
    """Give ids and URLs in crawl order, render each page, and label what needs the final text."""
    ids = {index: f"crawl-{position:05d}" for position, index in enumerate(order)}
    sites, first_with_text, urls, crawl = make_sites(rng), {}, set(), []
    for index in order:
        page, labels, text = pages[index], dict(pages[index].labels), "\n".join(pages[index].lines)
        first = first_with_text.setdefault(text, ids[index])
        labels["exact_dup_of"] = "" if first == ids[index] else first
        if labels["near_dup_jaccard"] > 0:
            labels["near_dup_of"] = ids[page.copy_of]
        labels["contaminated"] = finder.find(text) is not None
        labels["repeated_lines"] = duplicate_line_fraction(text) >= REPEATED_LINES_THRESHOLD
        site = rng.choice([s for s in sites if s.language == labels["language"]])
        slug = re.sub(r"[^a-z0-9]+", "-", page.headline.lower()).strip("-")[:60] or "page"
        url = ""
        while not url or url in urls:  # a crawler fetches each URL once
            url = f"https://{site.domain}/{site.skin}/{slug}-{rng.randint(100, 99999)}"
        urls.add(url)
        if rng.random() < config.html_fraction:
            raw, boilerplate = render_html(site, page.headline, page.lines, url, rng, people)
        else:
            (raw, boilerplate), labels["format"] = render_text(site, page.lines, rng), "text"
        removable = ("exact_dup_of", "near_dup_of", "spam", "repeated_lines", "gibberish", "toxic")
        labels["boilerplate"] = boilerplate
        labels["is_clean"] = not (
            any(labels[name] for name in removable)
            or labels["contaminated"] or labels["language"] != "en"
        )
        crawl.append(CrawlDocument(ids[index], url, raw, text, labels))
    return crawl


def crawl_dataset(world: World, config: CrawlConfig | None = None):
    """The crawl as a `datasets.Dataset`: id, url, html, clean_text and one column per label."""
    import datasets  # imported here: it is slow to import and only this function needs it

    crawl = make_crawl(world, config)
    dtypes = {bool: "bool", int: "int32", float: "float64", str: "string"}
    example = _labels("en")
    columns = {"id": [d.id for d in crawl], "url": [d.url for d in crawl]}
    columns |= {"html": [d.html for d in crawl], "clean_text": [d.clean_text for d in crawl]}
    features = {name: datasets.Value("string") for name in columns}
    for name in LABEL_COLUMNS:
        columns[name] = [d.labels[name] for d in crawl]
        features[name] = datasets.Value(dtypes[type(example[name])])
    return datasets.Dataset.from_dict(columns, features=datasets.Features(features))
