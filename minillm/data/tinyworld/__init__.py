"""TinyWorld: a generated fictional world and the text corpus written about it.

Modules: `names` (invented names), `world` (entities, facts, held-out set, question/cloze
prompts), `lexicon` (English vocabulary), `phrasebook` + `writer` (sentence templates and the
tiny template language), `genres` (the seven document writers), `corpus` (streaming documents,
files and statistics).

    >>> from minillm.data.tinyworld import iter_documents, make_world
    >>> world = make_world(seed=0)
    >>> len(world.entities) >= 300
    True
    >>> doc = next(iter_documents(world, split="train", seed=0))
    >>> doc.id
    'train-000000'
"""

from minillm.data.tinyworld.corpus import (
    EOT,
    GENRES,
    Document,
    corpus_stats,
    iter_documents,
    read_corpus,
    template_shares,
    write_corpus,
)
from minillm.data.tinyworld.world import (
    KINDS,
    RELATIONS,
    SPLITS,
    Entity,
    Fact,
    World,
    WorldConfig,
    cloze,
    make_world,
    question_answer,
)

__all__ = [
    "EOT",
    "GENRES",
    "Document",
    "corpus_stats",
    "iter_documents",
    "read_corpus",
    "template_shares",
    "write_corpus",
    "KINDS",
    "RELATIONS",
    "SPLITS",
    "Entity",
    "Fact",
    "World",
    "WorldConfig",
    "cloze",
    "make_world",
    "question_answer",
]
