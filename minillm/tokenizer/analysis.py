"""Looking at tokenizers: compression, token pieces, and coloured tokens for notebooks.

Any object with tiktoken's interface works (a ``tiktoken.Encoding`` or our ``Tokenizer``).

    >>> bytes_per_token(enc, ["Hello world"])              # doctest: +SKIP
    5.5
    >>> token_pieces(enc, "Hello world")                    # doctest: +SKIP
    ['Hello', ' world']
    >>> HTML(tokens_html(enc, "Hello world"))               # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

# pastel background colours, cycled so that neighbouring tokens always differ
PALETTE = ("#fde2a7", "#c9e7f5", "#d6f0c8", "#f6cfe0", "#e2d9f7", "#fbd5c3", "#cfeee9")


def bytes_per_token(encoding, texts: Iterable[str]) -> float:
    """UTF-8 bytes divided by tokens over ``texts``: how much text one token carries."""
    texts = list(texts)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if hasattr(encoding, "encode_ordinary_batch"):
        encoded = encoding.encode_ordinary_batch(texts)
    else:
        encoded = [encoding.encode_ordinary(t) for t in texts]
    n_tokens = sum(len(ids) for ids in encoded)
    if n_tokens == 0:
        raise ValueError("no tokens: give at least one non-empty text")
    return n_bytes / n_tokens


def piece_text(token_bytes: bytes) -> str:
    """A token's bytes as readable text; bytes that are only part of a UTF-8 character
    (BPE splits characters freely) are shown as ``<e6>``-style hex."""
    try:
        return token_bytes.decode("utf-8")
    except UnicodeDecodeError:
        out, i = [], 0
        while i < len(token_bytes):
            for end in range(min(len(token_bytes), i + 4), i, -1):
                try:
                    out.append(token_bytes[i:end].decode("utf-8"))
                    i = end
                    break
                except UnicodeDecodeError:
                    continue
            else:
                out.append(f"<{token_bytes[i]:02x}>")
                i += 1
        return "".join(out)


def token_pieces(encoding, text: str, allowed_special="all") -> list[str]:
    """The tokens of ``text`` as strings, one per token id."""
    ids = encoding.encode(text, allowed_special=allowed_special)
    return [piece_text(encoding.decode_single_token_bytes(i)) for i in ids]


def tokens_html(encoding, text: str, show_ids: bool = False, allowed_special="all") -> str:
    """``text`` as HTML with every token on its own coloured background."""
    ids = encoding.encode(text, allowed_special=allowed_special)
    spans = []
    for k, token in enumerate(ids):
        piece = piece_text(encoding.decode_single_token_bytes(token))
        shown = html.escape(piece).replace(" ", "&nbsp;").replace("\t", "→")
        shown = shown.replace("\n", "↵<br>")
        title = html.escape(f"id {token}: {piece!r}")
        label = f"<sub>{token}</sub>" if show_ids else ""
        colour = PALETTE[k % len(PALETTE)]
        spans.append(f'<span title="{title}" style="background:{colour};font-family:monospace;'
                     f'padding:1px 0;border-radius:3px">{shown}{label}</span>')
    return (f'<div style="line-height:1.9">{"".join(spans)}</div>'
            f'<div style="color:#666;font-size:90%">{len(ids)} tokens, '
            f'{len(text.encode("utf-8"))} bytes</div>')


def compression_table(encodings: dict, corpora: dict[str, Sequence[str]]):
    """A DataFrame of bytes per token: one row per tokenizer, one column per corpus."""
    import pandas as pd

    return pd.DataFrame({
        corpus: {name: bytes_per_token(enc, texts) for name, enc in encodings.items()}
        for corpus, texts in corpora.items()
    })
