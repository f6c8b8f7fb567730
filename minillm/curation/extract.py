"""HTML to text: keep the article, drop the page furniture around it.

A crawled page is mostly not content: menus, cookie banners, sidebars, share buttons and
footers surround a block of real text. An extractor has to find that block. Two ways:

- ``strip_tags``: the naive way. Drop ``<script>``/``<style>``, turn block tags into line
  breaks, delete every other tag. Fast, but every menu item and footer line survives as text.
- ``extract_main_text``: ``trafilatura`` (Barbaresi, 2021), a maintained extractor that scores
  the page's blocks by text density and link density and keeps the main one.

    >>> page = "<nav><a href='/'>Home</a></nav><p>The cat sat on the mat.</p><footer>(c) 2024</footer>"
    >>> strip_tags(page)
    'Home\\nThe cat sat on the mat.\\n(c) 2024'
"""

from __future__ import annotations

import html as html_lib
import re

_DROP = re.compile(r"<(script|style|noscript|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"</?(p|div|br|li|ul|ol|h[1-6]|tr|td|header|footer|nav|section|article|aside|"
                    r"main|title|blockquote|pre|table)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:500].lower()
    return head.startswith(("<!doctype", "<html")) or bool(re.search(r"<(p|div|body|br)\b", head))


def strip_tags(page: str) -> str:
    """Naive extraction: every piece of text on the page, one block per line."""
    text = _COMMENT.sub("", _DROP.sub("", page))
    text = _TAG.sub("", _BLOCK.sub("\n", text))
    lines = (" ".join(html_lib.unescape(line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def extract_main_text(page: str) -> str:
    """The page's main text with trafilatura ("" when it finds none); plain text passes through."""
    if not looks_like_html(page):
        return page
    import trafilatura

    text = trafilatura.extract(page, include_comments=False, include_tables=True,
                               deduplicate=False, favor_precision=True, fast=True)
    return text or ""
