"""Stage 9: evaluation, used by every stage of the course.

- ``perplexity``   sliding-window perplexity and bits per byte of a token stream
- ``choice``       multiple-choice cloze scoring with lm-evaluation-harness's acc / acc_norm
- ``responses``    generative scoring: exact and normalized match, gold judge, refusal rates
- ``redteam``      jailbreak-pattern red-team set (and benign look-alikes), attack success rate
- ``report_card``  models x metrics, notebook wall times, plots and a model card in one markdown
- ``suite``        every model measured the same way (one row each), prompt sensitivity,
                   n-gram contamination, judge bias; registers the ``evaluate`` stage

    from minillm.evaluate import sliding_window_perplexity, score_responses, summarize
    ppl = sliding_window_perplexity(model, tokens, window=256, stride=128).perplexity
    table = score_responses(examples, responses, GoldJudge(world))
    summarize(table)
"""

from minillm.evaluate.choice import (
    MultipleChoiceItem,
    accuracy_summary,
    encode_pair,
    loglikelihoods,
    score_multiple_choice,
)
from minillm.evaluate.perplexity import (
    PerplexityResult,
    bits_per_byte,
    sliding_window_perplexity,
    text_bits_per_byte,
    window_plan,
)
from minillm.evaluate.redteam import (
    PATTERNS,
    attack_success_rate,
    make_redteam_set,
    redteam_table,
    training_attacks,
)
from minillm.evaluate.report_card import (
    ModelCard,
    model_table,
    render_report_card,
    save_model_rows,
    write_report_card,
)
from minillm.evaluate.responses import (
    exact_match,
    normalized_match,
    safety_rates,
    score_responses,
    summarize,
)
from minillm.evaluate.suite import (
    PHRASINGS,
    EvalConfig,
    ModelSpec,
    adapter_rows,
    evaluate_model,
    evaluate_models,
    ngram_overlap,
    phrasing_examples,
    sensitivity,
    variant_scores,
)

__all__ = [
    "PATTERNS", "PHRASINGS", "EvalConfig", "ModelCard", "ModelSpec", "adapter_rows",
    "evaluate_model", "evaluate_models", "ngram_overlap", "phrasing_examples", "sensitivity",
    "variant_scores", "MultipleChoiceItem", "PerplexityResult", "accuracy_summary",
    "attack_success_rate", "bits_per_byte", "encode_pair", "exact_match", "loglikelihoods",
    "make_redteam_set", "model_table", "normalized_match", "redteam_table", "render_report_card",
    "safety_rates", "save_model_rows", "score_multiple_choice", "score_responses",
    "sliding_window_perplexity", "summarize", "text_bits_per_byte", "training_attacks", "window_plan",
    "write_report_card",
]
