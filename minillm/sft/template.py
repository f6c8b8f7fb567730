"""The chat template: how a conversation becomes one token sequence, and which tokens are trained.

A base model only continues text. To make it an assistant we fix a format for conversations and
fine-tune on it. Every turn is a role header, the content, and an end-of-turn token::

    <|system|>You are helpful.<|end|><|user|>What is 2 + 3?<|end|><|assistant|>5.<|end|>

The role and end tokens are *special tokens*: single ids that ordinary text can never produce, so a
user cannot forge a turn by typing ``<|assistant|>``. A prompt for generation ends with an open
assistant header and the model writes until it emits ``<|end|>``.

The **loss mask** marks the tokens the model is trained to produce: the content of every assistant
turn and its ``<|end|>`` (so it learns to stop), never the system or user text and never the
headers (those are given, not predicted).

    enc = load_tokenizer()
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    ids, mask = encode_conversation(enc, msgs)     # mask[i] is True where ids[i] is trained
    prompt = encode_prompt(enc, msgs[:1])           # ... <|assistant|>, ready for generate()
    parse(render(msgs)) == msgs                      # True

``add_chat_tokens`` gives a tokenizer without these tokens (e.g. GPT-2's) new ids for them, and
``minillm.model.resize_vocab`` grows the model's embedding to match without touching old rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ROLES = ("system", "user", "assistant")
HEADER = {role: f"<|{role}|>" for role in ROLES}
END = "<|end|>"
CHAT_TOKENS = (*HEADER.values(), END)
_TURN = re.compile(r"<\|(system|user|assistant)\|>(.*?)<\|end\|>", re.DOTALL)


class ConversationError(ValueError):
    """A conversation the template cannot render (wrong roles, order or content)."""


def validate(messages: Sequence[dict], *, for_generation: bool = False) -> None:
    """Raise ``ConversationError`` unless ``messages`` is an optional system turn followed by
    user/assistant turns that alternate and start with the user. For training the last turn must
    be the assistant's; for generation (``for_generation=True``) the user's."""
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise ConversationError("a conversation is a non-empty list of {'role', 'content'} dicts")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or set(m) - {"role", "content"} or "role" not in m or "content" not in m:
            raise ConversationError(f"turn {i} must be a dict with keys 'role' and 'content', got {m!r}")
        if m["role"] not in ROLES:
            raise ConversationError(f"turn {i} has role {m['role']!r}; roles are {ROLES}")
        if not isinstance(m["content"], str) or not m["content"].strip():
            raise ConversationError(f"turn {i} ({m['role']}) has empty content; every turn needs text")
        forged = [t for t in (*CHAT_TOKENS, "<|endoftext|>", "<|pad|>") if t in m["content"]]
        if forged:
            raise ConversationError(f"turn {i} contains the special token(s) {forged} in its text; "
                                    f"remove them (special tokens only come from the template)")
    turns = messages[1:] if messages[0]["role"] == "system" else messages
    if not turns:
        raise ConversationError("a system prompt alone is not a conversation: add a user turn")
    for i, m in enumerate(turns):
        expected = ("user", "assistant")[i % 2]
        if m["role"] != expected:
            where = i + (len(messages) - len(turns))
            raise ConversationError(f"turn {where} is {m['role']!r} but {expected!r} was expected: "
                                    f"after an optional system turn, user and assistant alternate, "
                                    f"starting with the user")
    last = turns[-1]["role"]
    if for_generation and last != "user":
        raise ConversationError("a prompt for generation must end with a user turn "
                                "(the model writes the assistant's reply)")
    if not for_generation and last != "assistant":
        raise ConversationError("a training conversation must end with an assistant turn "
                                "(that reply is what the model learns)")


def render(messages: Sequence[dict], add_generation_prompt: bool = False) -> str:
    """The conversation as template text; with ``add_generation_prompt`` an open assistant header
    is appended (then the conversation must end with a user turn)."""
    validate(messages, for_generation=add_generation_prompt)
    text = "".join(HEADER[m["role"]] + m["content"] + END for m in messages)
    return text + HEADER["assistant"] if add_generation_prompt else text


def parse(text: str) -> list[dict]:
    """The messages of a rendered conversation (the inverse of ``render``)."""
    messages, pos = [], 0
    for match in _TURN.finditer(text):
        if match.start() != pos:
            raise ConversationError(f"unexpected text {text[pos:match.start()]!r} between turns")
        messages.append({"role": match.group(1), "content": match.group(2)})
        pos = match.end()
    rest = text[pos:]
    if rest and rest != HEADER["assistant"]:
        raise ConversationError(f"text after the last complete turn: {rest[:40]!r}")
    return messages


def _special_ids(encoding) -> dict[str, int]:
    missing = [t for t in CHAT_TOKENS if t not in encoding.special_tokens_set]
    if missing:
        raise ValueError(f"the tokenizer {encoding.name!r} has no chat tokens {missing}; "
                         f"use add_chat_tokens(encoding) and resize the model with "
                         f"minillm.model.resize_vocab(model, new_encoding.n_vocab)")
    return {t: encoding.encode_single_token(t) for t in CHAT_TOKENS}


def end_token(encoding) -> int:
    """The id of ``<|end|>``: generation stops there."""
    return _special_ids(encoding)[END]


def encode_conversation(encoding, messages: Sequence[dict]) -> tuple[list[int], list[bool]]:
    """Token ids of the rendered conversation and a mask, True for trained tokens: the content
    and ``<|end|>`` of every assistant turn."""
    validate(messages)
    special = _special_ids(encoding)
    ids: list[int] = []
    mask: list[bool] = []
    for m in messages:
        content = encoding.encode_ordinary(m["content"])
        trained = m["role"] == "assistant"
        ids += [special[HEADER[m["role"]]], *content, special[END]]
        mask += [False] + [trained] * (len(content) + 1)
    return ids, mask


def encode_prompt(encoding, messages: Sequence[dict]) -> list[int]:
    """Token ids of a conversation ending with a user turn, plus the open assistant header."""
    validate(messages, for_generation=True)
    special = _special_ids(encoding)
    ids: list[int] = []
    for m in messages:
        ids += [special[HEADER[m["role"]]], *encoding.encode_ordinary(m["content"]), special[END]]
    return ids + [special[HEADER["assistant"]]]


def add_chat_tokens(encoding):
    """A tiktoken ``Encoding`` with the chat tokens added after the existing ids (the encoding
    itself when it has them all). Existing ids keep their meaning, so a model only needs new
    embedding rows: ``resize_vocab(model, new.n_vocab)``."""
    import tiktoken

    missing = [t for t in CHAT_TOKENS if t not in encoding.special_tokens_set]
    if not missing:
        return encoding
    special = dict(encoding._special_tokens)       # constructor arguments of Encoding (stable)
    for i, token in enumerate(missing):
        special[token] = encoding.n_vocab + i
    return tiktoken.Encoding(name=f"{encoding.name}-chat", pat_str=encoding._pat_str,
                             mergeable_ranks=encoding._mergeable_ranks, special_tokens=special)


def loss_mask_html(encoding, ids: Sequence[int], mask: Sequence[bool]) -> str:
    """The tokens of a conversation as HTML: trained tokens on green, the rest grey (what the
    masked loss sees). Hover a token for its id."""
    import html

    from minillm.tokenizer.analysis import piece_text

    spans = []
    for token, trained in zip(ids, mask, strict=True):
        piece = piece_text(encoding.decode_single_token_bytes(token))
        shown = html.escape(piece).replace(" ", "&nbsp;").replace("\n", "↵<br>")
        colour = "#b7e4b0" if trained else "#e6e6e6"
        weight = "bold" if token in encoding._special_tokens.values() else "normal"
        spans.append(f'<span title="id {token}" style="background:{colour};font-weight:{weight};'
                     f'font-family:monospace;padding:1px 0;border-radius:3px;margin-right:1px">'
                     f'{shown}</span>')
    n = sum(bool(m) for m in mask)
    return (f'<div style="line-height:1.9">{"".join(spans)}</div>'
            f'<div style="color:#666;font-size:90%">{n} of {len(ids)} tokens trained '
            f'(green); grey tokens are context only</div>')
