"""Talking to a model: chat replies through the template, and few-shot prompts for base models.

``reply`` renders a conversation, generates with the KV cache until ``<|end|>`` and returns the
text; ``Chat`` keeps the history for multi-turn use; ``replies`` answers many conversations in
left-padded batches (evaluation). A base model knows no template, so ``few_shot_prompt`` asks it
in plain text the way its corpus does ("Q: ... A: ...") and ``few_shot_replies`` cuts its
continuation at the end of the line.

    chat = Chat(model, enc, system="You are a helpful assistant.")
    chat("What is the capital of Velora?")          # -> "The capital of Velora is Brenno."
    chat("And its climate?")                        # the history goes with it
"""

from __future__ import annotations

from collections.abc import Sequence

from minillm.generate import generate
from minillm.sft.template import encode_prompt, end_token


def _as_messages(conversation) -> list[dict]:
    if isinstance(conversation, str):
        return [{"role": "user", "content": conversation}]
    return list(conversation)


def replies(model, encoding, conversations: Sequence, max_new_tokens: int = 48,
            batch_size: int = 64, **sampling) -> list[str]:
    """The assistant's next reply to each conversation (a list of messages ending with the user,
    or a plain question), generated in batches; greedy unless ``temperature`` > 0 is given.
    A reply stops at ``<|end|>``, after ``max_new_tokens``, or where the context is full."""
    sampling.setdefault("temperature", 0.0)
    end = end_token(encoding)
    prompts = [encode_prompt(encoding, _as_messages(c)) for c in conversations]
    context = model.config.context_length
    too_long = [i for i, p in enumerate(prompts) if len(p) >= context]
    if too_long:
        raise ValueError(f"{len(too_long)} prompts (e.g. #{too_long[0]}, {len(prompts[too_long[0]])} "
                         f"tokens) fill the model's context of {context} tokens, leaving no room "
                         f"for a reply; shorten them")
    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        chunk = prompts[i:i + batch_size]
        width = max(len(p) for p in chunk)
        new = generate(model, chunk, min(max_new_tokens, model.config.context_length - width),
                       stop_tokens=(end,), pad_id=end, **sampling)
        out += [encoding.decode(ids).strip() for ids in new]
    return out


def reply(model, encoding, conversation, max_new_tokens: int = 48, **sampling) -> str:
    """One reply to a conversation (or a plain question)."""
    return replies(model, encoding, [conversation], max_new_tokens, **sampling)[0]


class Chat:
    """A multi-turn conversation with a model; call it with the user's message."""

    def __init__(self, model, encoding, system: str | None = None, max_new_tokens: int = 48,
                 **sampling):
        self.model, self.encoding = model, encoding
        self.max_new_tokens, self.sampling = max_new_tokens, sampling
        self.messages: list[dict] = [{"role": "system", "content": system}] if system else []

    def __call__(self, message: str) -> str:
        conversation = [*self.messages, {"role": "user", "content": message}]
        answer = reply(self.model, self.encoding, conversation, self.max_new_tokens, **self.sampling)
        # an empty reply cannot be a turn of the template; keep a visible placeholder instead
        self.messages = [*conversation, {"role": "assistant", "content": answer or "..."}]
        return answer

    def reset(self) -> None:
        self.messages = [m for m in self.messages if m["role"] == "system"]


def few_shot_prompt(shots: Sequence, conversation) -> str:
    """Plain-text prompt for a base model: solved examples as ``Q: ...`` / ``A: ...`` lines, then
    the conversation (earlier turns as Q/A lines, system turns left out) ending with ``A:``.
    ``shots`` are (question, answer) pairs or SFT examples."""
    blocks = []
    for shot in shots:
        turns = shot.messages if hasattr(shot, "messages") else [
            {"role": "user", "content": shot[0]}, {"role": "assistant", "content": shot[1]}]
        blocks.append(_qa_lines(turns) + "\n")
    return "\n".join([*blocks, _qa_lines(_as_messages(conversation)) + "\nA:"])


def _qa_lines(messages: Sequence[dict]) -> str:
    tag = {"user": "Q:", "assistant": "A:"}
    return "\n".join(f"{tag[m['role']]} {m['content']}" for m in messages if m["role"] in tag)


_NEWLINE_TOKENS: dict[str, frozenset[int]] = {}


def _newline_tokens(encoding) -> frozenset[int]:
    """Ids of ordinary tokens whose bytes contain a newline (where an answer line ends)."""
    key = f"{encoding.name}:{encoding.n_vocab}"
    if key not in _NEWLINE_TOKENS:
        ids = []
        for i in range(encoding.n_vocab):
            try:
                if b"\n" in encoding.decode_single_token_bytes(i):
                    ids.append(i)
            except KeyError:                     # an unused id between ranks and specials
                continue
        _NEWLINE_TOKENS[key] = frozenset(ids)
    return _NEWLINE_TOKENS[key]


def few_shot_replies(model, encoding, prompts: Sequence[str], max_new_tokens: int = 32,
                     batch_size: int = 32) -> list[str]:
    """Greedy continuations of plain-text prompts, cut at the first newline (the answer line).
    Prompts longer than the context keep their end (the question)."""
    eot = encoding.eot_token
    stops = (eot, *sorted(_newline_tokens(encoding)))
    ids = [[eot] + encoding.encode_ordinary(p) for p in prompts]
    room = model.config.context_length - max_new_tokens
    ids = [p[-room:] for p in ids]
    out = []
    for i in range(0, len(ids), batch_size):
        new = generate(model, ids[i:i + batch_size], max_new_tokens, temperature=0.0,
                       stop_tokens=stops, pad_id=eot)
        out += [encoding.decode(n).split("\n")[0].strip() for n in new]
    return out
