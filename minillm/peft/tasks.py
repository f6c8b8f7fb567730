"""Small TinyWorld tasks for adapting a frozen base model, asked as plain ``Q: ... A:`` text.

Three tasks a 1M-parameter model can learn, cut from the TinyWorld SFT families:

* ``mood``:  "Is the mood of this story positive or negative? <story>" -> ``positive``
* ``kind``:  "Is Viarpail a person or an animal?" -> ``animal`` (knowledge of the world)
* ``place``: "<story> Where does this story take place?" -> ``Branlath`` (copy a city name)

Every method sees the same text: ``<|endoftext|>Q: <question>\\nA:`` and must continue with
`` <answer>`` and a newline. Hand-written prompts put solved examples in front of it (few-shot,
as many as fit in the context); learned prompts put vectors there instead. A reply is correct
when its first line is the answer (exact match, ignoring case and a final full stop).

    examples = task_examples(world, "train", "mood", n=200)
    items = encode_task(encoding, examples, context_length=128)
    batches = TaskBatches(items, batch_size=16, pad_id=encoding.eot_token)
    x, y = next(batches)                      # y is -100 except on the answer tokens
    replies = task_replies(model, encoding, [query(e) for e in test], soft_prompts=soft)
    accuracy(replies, test)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

TASKS = ("mood", "kind", "place")
DESCRIPTIONS = {                      # a task described in words: the "text" initialisation
    "mood": "Is the mood of this story positive or negative?",
    "kind": "Is it a country, a city, a river, a person, an animal or an item?",
    "place": "In which city does this story take place?",
}


@dataclass(frozen=True)
class TaskExample:
    task: str
    question: str
    answer: str
    id: str


def task_of(example) -> str | None:
    """Which of ``TASKS`` a TinyWorld SFT example belongs to (None for the others)."""
    if example.family == "classification":
        return "mood" if tuple(example.meta["choices"]) == ("positive", "negative") else "kind"
    if example.family == "extraction" and example.meta.get("question") == "place":
        return "place"
    return None


def task_examples(world, split: str, task: str, n: int, seed: int = 0) -> list[TaskExample]:
    """``n`` examples of ``task`` from the TinyWorld SFT generator's ``split`` (the generator's
    split rule keeps every test question out of train)."""
    from minillm.data.tinyworld.sft import make_sft_examples

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    # mood and kind share the classification family (half each); place is a quarter of extraction
    share = {"mood": 2, "kind": 2, "place": 4}[task]
    per_family = max(8, int(n * share * 1.3))
    while True:
        found = [e for e in make_sft_examples(world, split, n_per_family=per_family, seed=seed)
                 if task_of(e) == task]
        if len(found) >= n:
            break
        per_family *= 2
    return [TaskExample(task, e.prompt[-1]["content"], e.answer, e.id) for e in found[:n]]


def query(example: TaskExample) -> str:
    return f"Q: {example.question}\nA:"


def solved(example: TaskExample) -> str:
    return f"{query(example)} {example.answer}\n"


def few_shot_text(example: TaskExample, shots: Sequence[TaskExample]) -> str:
    """A hand-written prompt: solved examples, a blank line after each, then the question."""
    return "".join(solved(s) + "\n" for s in shots) + query(example)


def fitting_shots(encoding, example: TaskExample, shots: Sequence[TaskExample], k: int,
                  context_length: int, room: int) -> list[TaskExample]:
    """The first ``k`` shots, fewer when the prompt would leave less than ``room`` tokens."""
    chosen = list(shots[:k])
    while chosen and 1 + len(encoding.encode_ordinary(few_shot_text(example, chosen))) \
            > context_length - room:
        chosen.pop()
    return chosen


@dataclass(frozen=True)
class Encoded:
    ids: list[int]          # <|endoftext|> + question + answer + newline
    n_prompt: int           # tokens before the answer


def encode_task(encoding, examples: Sequence[TaskExample], context_length: int,
                reserve: int = 0) -> list[Encoded]:
    """Token ids of solved examples; ``reserve`` positions are kept free (a soft prompt or a
    prefix counts towards the context). Examples that do not fit raise a ValueError."""
    out = []
    for ex in examples:
        prompt = prompt_ids(encoding, query(ex))
        answer = encoding.encode_ordinary(f" {ex.answer}\n")
        if len(prompt) + len(answer) + reserve > context_length:
            raise ValueError(f"example {ex.id} needs {len(prompt) + len(answer)} tokens + {reserve} "
                             f"reserved > context_length {context_length}; use shorter examples")
        out.append(Encoded(prompt + answer, len(prompt)))
    return out


def fitting(encoding, examples: Sequence[TaskExample], context_length: int,
            reserve: int = 0) -> list[TaskExample]:
    """The examples whose question and answer fit in the context with ``reserve`` positions
    to spare (small smoke tokenizers make long stories; the cpu ones fit nearly all)."""
    return [ex for ex in examples if len(prompt_ids(encoding, solved(ex))) + reserve <= context_length]


class TaskBatches:
    """Endless shuffled (x, y) batches, right-padded; targets only on the answer tokens."""

    def __init__(self, items: Sequence[Encoded], batch_size: int, pad_id: int, seed: int = 0):
        if not items:
            raise ValueError("no training examples: give at least one encoded example")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.items, self.batch_size, self.pad_id = list(items), batch_size, pad_id
        self.rng = random.Random(seed)
        self.order: list[int] = []

    def __iter__(self):
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        rows = []
        for _ in range(self.batch_size):
            if not self.order:
                self.order = list(range(len(self.items)))
                self.rng.shuffle(self.order)
            rows.append(self.items[self.order.pop()])
        width = max(len(r.ids) for r in rows) - 1
        x = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        y = torch.full((len(rows), width), -100, dtype=torch.long)
        for i, r in enumerate(rows):
            ids = torch.tensor(r.ids)
            x[i, :len(ids) - 1] = ids[:-1]
            y[i, r.n_prompt - 1:len(ids) - 1] = ids[r.n_prompt:]
        return x, y


def stop_tokens(encoding) -> tuple[int, ...]:
    """Where a reply ends: ``<|endoftext|>`` or any token containing a newline."""
    from minillm.sft.chat import _newline_tokens  # ids whose bytes contain a newline

    return (encoding.eot_token, *sorted(_newline_tokens(encoding)))


def prompt_ids(encoding, text: str) -> list[int]:
    """``<|endoftext|>`` (a document starts here) and the text's tokens."""
    return [encoding.eot_token] + encoding.encode_ordinary(text)


def task_replies(model, encoding, prompts: Sequence[str], max_new_tokens: int = 8,
                 batch_size: int = 64, **adapters) -> list[str]:
    """Greedy first lines after text prompts, with adapters (``soft_prompts=``, ``prefixes=``,
    ``lora=``: see ``minillm.peft.generate_with_adapters``). Long prompts keep their end."""
    from minillm.peft.adapters import generate_with_adapters

    eot, stops = encoding.eot_token, stop_tokens(encoding)
    reserved = sum(getattr(a, "n_tokens", 0) + getattr(a, "n_prefix", 0)
                   for a in adapters.values() if a is not None and not isinstance(a, (str, list)))
    room = model.config.context_length - max_new_tokens - reserved
    rows = [prompt_ids(encoding, p)[-room:] for p in prompts]
    out = []
    for i in range(0, len(rows), batch_size):
        new = generate_with_adapters(model, rows[i:i + batch_size], max_new_tokens, temperature=0.0,
                                     stop_tokens=stops, pad_id=eot, **adapters)
        out += [encoding.decode(n).split("\n")[0].strip() for n in new]
    return out


def normalize(text: str) -> str:
    return text.strip().rstrip(".").strip().lower()


def is_correct(reply: str, example: TaskExample) -> bool:
    return normalize(reply) == normalize(example.answer)


def accuracy(replies: Sequence[str], examples: Sequence[TaskExample]) -> float:
    if len(replies) != len(examples):
        raise ValueError(f"{len(replies)} replies for {len(examples)} examples")
    return sum(map(is_correct, replies, examples)) / max(len(examples), 1)
