"""PII masking: emails, phone numbers and IP addresses replaced by placeholders, with counts.

Regular expressions find candidates; IP addresses are then *validated* with the standard
library's ``ipaddress`` module, which knows every legal IPv6 spelling ("::" compression,
embedded IPv4) and rejects look-alikes such as clock times "12:30:45". Order matters: IPs are
masked before phone numbers, because "192.168.100.200" also looks like a dotted phone number.

    >>> mask_pii("Mail bob.smith@example.com or call (555) 012-3456 from 2001:db8::1.")
    ('Mail <EMAIL> or call <PHONE> from <IPV6>.', {'email': 1, 'phone': 1, 'ipv4': 0, 'ipv6': 1})
"""

from __future__ import annotations

import ipaddress
import re

PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ipv4": "<IPV4>", "ipv6": "<IPV6>"}

# local@domain.tld; the lookbehind keeps "https://site.com/@user" (no dot after @user) out and
# stops a match from starting inside a longer token
EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,}(?![\w-])")
IPV4_CANDIDATE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
# optional country code, then area code (bracketed or not) and two more digit groups; at least
# 9 digits in all. Separators are one space, dot or hyphen.
PHONE = re.compile(
    r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-]|\.\d)")


def _valid_ip(candidate: str, version: int) -> bool:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    # "a::b" is legal IPv6, but in prose it is far more often code; real addresses have digits
    return address.version == version and any(c.isdigit() for c in candidate)


def find_pii(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every PII span, non-overlapping, in text order."""
    spans: list[tuple[str, int, int]] = []
    taken = [False] * (len(text) + 1)

    def add(kind: str, start: int, end: int) -> None:
        if not any(taken[start:end]):
            spans.append((kind, start, end))
            taken[start:end] = [True] * (end - start)

    for m in EMAIL.finditer(text):
        add("email", m.start(), m.end())
    for m in IPV6_CANDIDATE.finditer(text):
        if _valid_ip(m.group(0), 6):
            add("ipv6", m.start(), m.end())
    for m in IPV4_CANDIDATE.finditer(text):
        if _valid_ip(m.group(0), 4):
            add("ipv4", m.start(), m.end())
    for m in PHONE.finditer(text):
        if sum(c.isdigit() for c in m.group(0)) >= 9:
            add("phone", m.start(), m.end())
    return sorted(spans, key=lambda span: span[1])


def mask_pii(text: str) -> tuple[str, dict[str, int]]:
    """(text with each PII span replaced by its placeholder, count per kind)."""
    counts = dict.fromkeys(PLACEHOLDERS, 0)
    pieces, last = [], 0
    for kind, start, end in find_pii(text):
        pieces += [text[last:start], PLACEHOLDERS[kind]]
        counts[kind] += 1
        last = end
    pieces.append(text[last:])
    return "".join(pieces), counts
