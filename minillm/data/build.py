"""The data stage: per-profile sizes and the artifacts every later notebook starts from.

Artifacts (``artifacts.get(name)`` builds them on demand):

- ``tinyworld_world``   the generated world: entities, facts and the held-out set (world.json)
- ``tinyworld_corpus``  train / validation / test text, documents separated by ``<|endoftext|>``
- ``tinyworld_sft``     SFT examples per split (JSONL), used by notebooks 05-07 and 09
- ``web_crawl``         the raw crawled pages with ground-truth defect labels (Parquet), for 01
- ``pydocs``            docstrings of the installed Python code (JSONL), real text for 01-02
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass

from minillm import artifacts, profiles
from minillm.data import pydocs
from minillm.data.tinyworld import corpus, crawl, sft
from minillm.data.tinyworld.world import WorldConfig, make_world


@dataclass(frozen=True)
class DataConfig:
    world_seed: int
    corpus_seed: int
    train_bytes: int
    validation_bytes: int
    test_bytes: int
    sft_per_family: int        # 200 everywhere: the web crawl's contaminated pages copy this test set
    crawl_docs: int
    pydocs_bytes: int
    pydocs_sources: tuple[str, ...]


profiles.register_stage(
    "data",
    configs={
        "smoke": DataConfig(0, 0, 400_000, 40_000, 40_000, 200, 400, 400_000, ("stdlib",)),
        "cpu": DataConfig(0, 0, 8_000_000, 400_000, 400_000, 200, 10_000, 3_000_000,
                          ("stdlib", "site-packages")),
        "gpu": DataConfig(0, 0, 40_000_000, 1_000_000, 1_000_000, 200, 30_000, 8_000_000,
                          ("stdlib", "site-packages")),
    },
    minutes={"smoke": 0.5, "cpu": 1, "gpu": 2},
    description="TinyWorld corpus, SFT tasks, web crawl and PyDocs",
)


def _data_config(profile: str) -> DataConfig:
    return profiles.stage_config("data", profile)


def world_from(artifact: artifacts.Artifact):
    """The World an artifact was built from (regenerated from its seed: generation is exact)."""
    return make_world(json.loads(artifact.file("world.json").read_text())["seed"])


# the world's sizes are part of the key, so changing WorldConfig's defaults rebuilds everything
@artifacts.register("tinyworld_world", config=lambda p: {"seed": _data_config(p).world_seed,
                                                           "world": asdict(WorldConfig())})
def build_world(out_dir, config, inputs):
    """The generated world: every entity, fact and the held-out set."""
    world = make_world(config["seed"])
    payload = {
        "seed": world.seed,
        "entities": [asdict(e) for e in world.entities.values()],
        "heldout": sorted(world.heldout),
    }
    (out_dir / "world.json").write_text(json.dumps(payload, indent=1, default=list))
    kinds = sorted({e.kind for e in world.entities.values()})
    return {"entities": len(world.entities), "facts": len(world.facts()),
            "heldout_entities": len(world.heldout),
            "kinds": {k: len(world.by_kind(k)) for k in kinds}}


def _corpus_config(profile: str) -> dict:
    cfg = _data_config(profile)
    return {"seed": cfg.corpus_seed, "bytes": {"train": cfg.train_bytes,
            "validation": cfg.validation_bytes, "test": cfg.test_bytes}}


@artifacts.register("tinyworld_corpus", deps=("tinyworld_world",), config=_corpus_config)
def build_corpus(out_dir, config, inputs):
    """TinyWorld text per split, documents separated by <|endoftext|>."""
    world = world_from(inputs["tinyworld_world"])
    stats = {}
    for split, n_bytes in config["bytes"].items():
        stats[split] = corpus.write_corpus(out_dir / f"{split}.txt", n_bytes, seed=config["seed"],
                                           split=split, world=world)
    return stats


def _sft_config(profile: str) -> dict:
    cfg = _data_config(profile)
    return {"seed": cfg.corpus_seed, "per_family": cfg.sft_per_family}


@artifacts.register("tinyworld_sft", deps=("tinyworld_world",), config=_sft_config)
def build_sft(out_dir, config, inputs):
    """TinyWorld instruction/response examples per split (JSONL)."""
    world = world_from(inputs["tinyworld_world"])
    counts = {}
    for split in ("train", "validation", "test"):
        examples = sft.make_sft_examples(world, split, n_per_family=config["per_family"],
                                         seed=config["seed"])
        with open(out_dir / f"{split}.jsonl", "w") as f:
            for ex in examples:
                f.write(json.dumps(asdict(ex), default=list) + "\n")
        counts[split] = len(examples)
    return counts


def load_sft(split: str, artifact: artifacts.Artifact | None = None) -> list[sft.Example]:
    artifact = artifact or artifacts.get("tinyworld_sft")
    with open(artifact.file(f"{split}.jsonl")) as f:
        return [sft.Example(**json.loads(line)) for line in f]


def _crawl_config(profile: str) -> dict:
    cfg = _data_config(profile)
    return {"n_docs": cfg.crawl_docs, "seed": cfg.corpus_seed}


@artifacts.register("web_crawl", deps=("tinyworld_world",), config=_crawl_config)
def build_crawl(out_dir, config, inputs):
    """Raw crawled pages with ground-truth defect labels (Parquet)."""
    world = world_from(inputs["tinyworld_world"])
    dataset = crawl.crawl_dataset(world, crawl.CrawlConfig(n_docs=config["n_docs"], seed=config["seed"]))
    dataset.to_parquet(str(out_dir / "crawl.parquet"))
    return {"documents": len(dataset)}


def load_crawl(artifact: artifacts.Artifact | None = None):
    import datasets

    artifact = artifact or artifacts.get("web_crawl")
    return datasets.Dataset.from_parquet(str(artifact.file("crawl.parquet")))


def _pydocs_config(profile: str) -> dict:
    cfg = _data_config(profile)
    # the harvest depends on the interpreter and, for site-packages, on what is installed
    return {"max_bytes": cfg.pydocs_bytes, "sources": list(cfg.pydocs_sources),
            "python": platform.python_version()}


@artifacts.register("pydocs", config=_pydocs_config)
def build_pydocs_artifact(out_dir, config, inputs):
    """Docstrings harvested from the installed Python code (JSONL)."""
    path = pydocs.build_pydocs(out_dir, max_bytes=config["max_bytes"], sources=config["sources"])
    path.rename(out_dir / "pydocs.jsonl")
    for extra in out_dir.iterdir():           # the harvest's own cache sidecar is not needed here
        if extra.name != "pydocs.jsonl":
            extra.unlink()
    docs = pydocs.read_pydocs(out_dir / "pydocs.jsonl")
    return {"records": len(docs), "packages": len({d.package for d in docs})}


def load_pydocs_records(artifact: artifacts.Artifact | None = None) -> list[pydocs.PyDoc]:
    artifact = artifact or artifacts.get("pydocs")
    return pydocs.read_pydocs(artifact.file("pydocs.jsonl"))


def tinyworld_dataset(split: str = "train", artifact: artifacts.Artifact | None = None):
    """A split of the TinyWorld corpus as a ``datasets.Dataset`` with a ``text`` column:
    the embedded stand-in for online pretraining text such as TinyStories."""
    import datasets

    artifact = artifact or artifacts.get("tinyworld_corpus")
    return datasets.Dataset.from_dict({"text": list(corpus.read_corpus(artifact.file(f"{split}.txt")))})
