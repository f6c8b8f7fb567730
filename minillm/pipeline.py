"""The course pipeline. Importing this module registers every stage.

Each stage module calls ``profiles.register_stage`` for its per-profile configs and
``artifacts.register`` for the artifacts it builds; ``artifacts.get`` and
``profiles.stage_config`` import this module first, so a notebook can ask for any artifact
without importing the stage that builds it.
"""

# in pipeline order
# isort: off
from minillm.data import build as data_stage  # noqa: F401  (TinyWorld, PyDocs, web crawl)
from minillm.curation import stage as curation_stage  # noqa: F401  (curated corpus)
from minillm.tokenizer import stage as tokenizer_stage  # noqa: F401  (tokenizer, token shards)
from minillm import pretrain  # noqa: F401  (base model)
from minillm import scaling  # noqa: F401  (scaling fits)
from minillm.sft import stage as sft_stage  # noqa: F401  (SFT model)
from minillm.peft import stage as peft_stage  # noqa: F401  (adapters)
from minillm.rlhf import stage as rlhf_stage  # noqa: F401  (reward model, PPO and DPO policies)
from minillm.compress import stage as compress_stage  # noqa: F401  (compressed models)
from minillm.evaluate import suite as evaluate_stage  # noqa: F401  (evaluation suite sizes)
# isort: on
