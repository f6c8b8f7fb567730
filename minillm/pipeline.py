"""The course pipeline. Importing this module registers every stage.

Each stage module calls ``profiles.register_stage`` for its per-profile configs and
``artifacts.register`` for the artifacts it builds; ``artifacts.get`` and
``profiles.stage_config`` import this module first, so a notebook can ask for any artifact
without importing the stage that builds it.
"""

from minillm.data import build  # noqa: F401  (TinyWorld, PyDocs and the web crawl)
