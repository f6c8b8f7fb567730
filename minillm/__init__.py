"""minillm: the library behind the course.

Every notebook calls into this package; nothing in a notebook copies its logic.
The core modules are:

- ``minillm.profiles``  smoke / cpu / gpu profiles, per-stage configs, the notebook banner
- ``minillm.device``    device, precision (bf16 / fp16 + GradScaler / fp32) and seeding
- ``minillm.artifacts`` the artifact store: stage outputs keyed by config hash, built on demand
- ``minillm.report``    headline metrics that ``make course`` collects into REPORT.md
- ``minillm.data``      TinyWorld, PyDocs and the online dataset loaders
"""

__version__ = "0.1.0"
