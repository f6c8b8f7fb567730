"""Parameter-efficient fine-tuning: adapt one frozen model to many tasks with a few parameters.

Three ways to add a little trainable state to a frozen GPT:

* ``soft_prompt``: learned input vectors in front of the text (Lester et al. 2021);
* ``prefix``: learned keys and values in front of every layer (Li & Liang 2021);
* ``lora``: learned low-rank updates of chosen weight matrices (Hu et al. 2021).

``adapters`` serves them: KV-cache generation, batches whose rows use different tasks, and
saving / loading an adapter as a tiny file checked against its base model.

    soft = SoftPrompt(model, SoftPromptConfig(n_tokens=8))
    Trainer(SoftPromptModel(model, soft), TrainConfig(max_steps=100, lr=3e-2), batches).fit()
    save_adapter(soft, "runs/peft/task", model)
    bank = AdapterBank(model); bank.load("task", "runs/peft/task")
    bank.generate(["task", None], [prompt_a, prompt_b], max_new_tokens=20, temperature=0)
"""

from minillm.peft.adapters import (
    AdapterBank,
    adapter_file_size,
    adapter_logits,
    base_signature,
    generate_with_adapters,
    generate_with_prefix,
    generate_with_soft_prompt,
    load_adapter,
    read_adapter_meta,
    save_adapter,
)
from minillm.peft.lora import (
    LoRA,
    LoRAConfig,
    LoRALinear,
    adapter_names,
    mark_only_adapters_trainable,
    parameter_summary,
    set_active_adapters,
    trainable_parameters,
)
from minillm.peft.prefix import PrefixConfig, PrefixModel, PrefixTuning, text_key_values
from minillm.peft.soft_prompt import SoftPrompt, SoftPromptConfig, SoftPromptModel, nearest_tokens

__all__ = [
    "AdapterBank", "LoRA", "LoRAConfig", "LoRALinear", "PrefixConfig", "PrefixModel", "PrefixTuning",
    "SoftPrompt", "SoftPromptConfig", "SoftPromptModel", "adapter_file_size", "adapter_logits",
    "adapter_names", "base_signature", "generate_with_adapters", "generate_with_prefix",
    "generate_with_soft_prompt", "load_adapter", "mark_only_adapters_trainable", "nearest_tokens",
    "parameter_summary", "read_adapter_meta", "save_adapter", "set_active_adapters",
    "text_key_values", "trainable_parameters",
]
