"""Stage 8, compression: make a trained model smaller and cheaper to run.

* ``quantize`` -- round-to-nearest int8/int4 weights (symmetric or zero-point; per tensor,
  channel or group), ``QuantLinear`` that stores real integers, ``quantize_model``, and torch's
  own dynamic int8 for comparison.
* ``gptq`` -- GPTQ: quantization that compensates each column's rounding error using calibration
  inputs.
* ``outliers`` -- LLM.int8()-style activation-outlier analysis and mixed-precision quantization.
* ``prune`` -- magnitude and Wanda pruning, unstructured or 2:4.
* ``distill`` -- the knowledge-distillation loss and a ``loss_fn`` for the shared Trainer.
* ``measure`` -- size in memory and on disk, safetensors save/load, CPU tokens/s, KL to the
  original model, comparison table.
* ``stage`` -- the pipeline stage: artifacts ``distilled_student`` and ``compressed_models``.

    from minillm.compress import quantize_model, gptq_quantize_model, compare_models
    int8 = quantize_model(model, bits=8)
    int4 = gptq_quantize_model(model, calibration_batches, bits=4, group_size=64)
    compare_models({"fp32": model, "int8": int8, "gptq-int4": int4}, batches=val_batches)
"""

from minillm.compress.distill import distillation_loss, distillation_loss_fn, freeze
from minillm.compress.gptq import (
    collect_hessians,
    gptq_quantize,
    gptq_quantize_model,
    input_hessian,
    reconstruction_error,
)
from minillm.compress.measure import (
    compare_models,
    disk_bytes,
    eval_loss,
    load_compressed,
    mean_kl,
    memory_bytes,
    save_compressed,
    tokens_per_second,
)
from minillm.compress.outliers import (
    InputStats,
    collect_input_stats,
    outlier_columns,
    outlier_report,
    quantize_model_mixed,
)
from minillm.compress.prune import (
    magnitude_scores,
    prune_mask,
    prune_model,
    sparsity_report,
    wanda_scores,
)
from minillm.compress.quantize import (
    QuantizedTensor,
    QuantLinear,
    dequantize,
    pack_int4,
    quantize,
    quantize_model,
    torch_dynamic_int8,
    unpack_int4,
)

__all__ = [
    "InputStats", "QuantLinear", "QuantizedTensor", "collect_hessians", "collect_input_stats", "compare_models",
    "dequantize", "disk_bytes", "distillation_loss", "distillation_loss_fn", "eval_loss", "freeze",
    "gptq_quantize", "gptq_quantize_model", "input_hessian", "load_compressed",
    "magnitude_scores", "mean_kl", "memory_bytes", "outlier_columns", "outlier_report", "pack_int4",
    "prune_mask", "prune_model", "quantize", "quantize_model", "quantize_model_mixed",
    "reconstruction_error", "save_compressed", "sparsity_report", "tokens_per_second",
    "torch_dynamic_int8", "unpack_int4", "wanda_scores",
]
