"""Unicode and whitespace normalization: one canonical form for the same text.

Crawled text arrives in many byte encodings and Unicode spellings of the same characters: "é"
as one code point or as "e" + a combining accent, UTF-8 read as Windows-1252 ("cafÃ©"),
invisible control characters, non-breaking spaces and runs of blank lines. Filters and
deduplication compare strings, so every page is first brought to one form:

1. bytes -> str: UTF-8, else Windows-1252 (the usual culprit), and say which was used;
2. mojibake repair with ``ftfy`` (it undoes UTF-8-read-as-Latin-1 and similar mistakes);
3. Unicode NFC composition;
4. control characters dropped (newline and tab kept), odd spaces -> " ", spaces collapsed,
   lines stripped, at most one blank line in a row.

    >>> normalize_text("caf\\u00c3\\u00a9  ok\\x00\\n\\n\\n\\nnext")
    ('café ok\\n\\nnext', ['mojibake repaired', 'control characters removed', 'whitespace collapsed'])
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class NormalizeConfig:
    fix_mojibake: bool = True
    form: str = "NFC"


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding used): UTF-8 when the bytes are valid UTF-8, else Windows-1252 with
    undecodable bytes replaced by U+FFFD, so no page is lost to one bad byte."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"decode_bytes expects bytes, got {type(data).__name__}")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def normalize_text(text: str, config: NormalizeConfig = NormalizeConfig()) -> tuple[str, list[str]]:
    """(normalized text, list of what changed, in words)."""
    if not isinstance(text, str):
        raise TypeError(f"normalize_text expects str, got {type(text).__name__}; decode bytes first "
                        "with decode_bytes()")
    changes = []
    if config.fix_mojibake:
        import ftfy

        fixed = ftfy.fix_text(text, normalization=None, uncurl_quotes=False,
                              remove_control_chars=False)
        if fixed != text:
            changes.append("mojibake repaired")
            text = fixed
    composed = unicodedata.normalize(config.form, text)
    if composed != text:
        changes.append(f"Unicode {config.form}")
        text = composed
    cleaned = _CONTROL.sub("", text)
    if cleaned != text:
        changes.append("control characters removed")
        text = cleaned
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    tidy = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    if tidy != text:
        changes.append("whitespace collapsed")
    return tidy, changes
