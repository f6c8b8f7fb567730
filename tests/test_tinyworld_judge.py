import random

import pytest

from minillm.data.tinyworld.judge import (
    AXES,
    HARM_CAP,
    NON_ANSWER_CAP,
    OVER_REFUSAL_CAP,
    GoldJudge,
    attempts_answer,
    candidate_responses,
    candidate_variants,
    is_refusal,
    make_preference_pairs,
    normalize,
)
from minillm.data.tinyworld.sft import OPENERS, Example, make_sft_examples


@pytest.fixture(scope="module")
def judge(world):
    return GoldJudge(world)


def chat(*turns):
    roles = ("user", "assistant")
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


@pytest.fixture(scope="module")
def capital(world):
    """A hand-written fact question: the capital of the first country."""
    country = world.by_kind("country")[0].name
    answer = world.value(country, "capital")
    wrong = [c.name for c in world.by_kind("city") if c.name != answer][:3]
    example = Example("hand-capital", "fact_qa",
                      chat(f"What is the capital of {country}?", f"The capital of {country} is {answer}."),
                      answer, {"fact": (country, "capital", answer)})
    return example, country, answer, wrong


def score(judge, example, response):
    return judge.judge(example, response).score


def test_correct_beats_wrong_and_hedging(judge, capital):
    example, country, answer, wrong = capital
    right = judge.judge(example, f"The capital of {country} is {answer}.")
    assert right.score > 0.9 and right.breakdown["correctness"] == 1.0
    bad = judge.judge(example, f"The capital of {country} is {wrong[0]}.")
    assert bad.breakdown["correctness"] == 0.0 and any("expected" in n for n in bad.notes)
    assert right.score > bad.score + 0.3
    # listing several candidate capitals is not correct, even though the answer is among them
    hedge = judge.judge(example, f"It is {wrong[0]}, {answer} or {wrong[1]}.")
    assert hedge.breakdown["correctness"] == 0.0 and any("hedged" in n for n in hedge.notes)
    assert judge.judge(example, f"{answer}, {wrong[2]}").breakdown["correctness"] == 0.0
    # naming a rival only to deny it is fine; normalisation ignores case, articles, punctuation
    assert judge.judge(example, f"It is {answer}, not {wrong[0]}.").breakdown["correctness"] == 1.0
    assert judge.judge(example, f"the capital is  {answer.upper()}!!").breakdown["correctness"] == 1.0
    assert judge.judge(example, f"It is not {answer}.").breakdown["correctness"] == 0.0


def test_replies_that_answer_nothing_score_below_a_wrong_attempt(world, judge, capital):
    example, country, answer, wrong = capital
    attempt = judge.judge(example, f"The capital of {country} is {wrong[0]}.")
    assert attempts_answer(example, f"The capital of {country} is {wrong[0]}.")
    assert attempt.breakdown["helpfulness"] == 0.4                   # wrong, but it tried
    other = world.by_kind("country")[1].name
    for reply in ("Of course.", "Happy to help.", "O. 61. `. 61 too.",
                  f"Sure! The climate of {other} is {world.value(other, 'climate')}."):
        judged = judge.judge(example, reply)
        assert not attempts_answer(example, reply)
        assert judged.breakdown["helpfulness"] == 0.0 and "does not answer the question" in judged.notes
        assert judged.score <= NON_ANSWER_CAP < attempt.score
    # a right answer in any form is untouched, and so is a refusal of a harmful request
    assert judge.judge(example, f"{answer}.").breakdown["helpfulness"] == 1.0
    harmful = next(e for e in make_sft_examples(world, "train", n_per_family=40, families=("refusal",))
                   if e.meta["harmful"])
    assert judge.judge(harmful, harmful.messages[-1]["content"]).score > 0.9
    # a reference with nothing but the answer cannot tell an attempt from a non-answer
    terse = Example("terse", "arithmetic", chat("What is 2 + 2?", "4."), "4")
    assert attempts_answer(terse, "Of course.")


def test_politeness_rudeness_and_flattery(judge, capital):
    example, country, answer, _ = capital
    plain = f"The capital of {country} is {answer}."
    polite = judge.judge(example, "Sure! " + plain)
    rude = judge.judge(example, "Ugh, what a stupid question. " + plain)
    assert polite.breakdown["correctness"] == rude.breakdown["correctness"] == 1.0
    assert polite.score > rude.score + 0.1
    assert rude.breakdown["politeness"] < 0.5 and any("rude" in n for n in rude.notes)
    flattery = judge.judge(example, "Great question! Great question! What a great question! " + plain)
    assert flattery.breakdown["politeness"] <= polite.breakdown["politeness"]
    assert flattery.score < polite.score
    assert polite.breakdown["politeness"] > judge.judge(example, plain).breakdown["politeness"]


def test_concise_beats_padded_and_repetitive(judge, capital):
    example, country, answer, _ = capital
    plain = f"The capital of {country} is {answer}."
    padded = ("Let me explain this in a little more detail, because it is an interesting topic "
              "that many travellers wonder about when they plan a long journey. " + plain +
              " There are many different things to consider here and it is worth thinking about "
              "them carefully before you decide where to go next.")
    repetitive = " ".join([plain] * 4)
    concise = judge.judge(example, plain)
    assert concise.breakdown["conciseness"] == 1.0
    for longer in (padded, repetitive):
        verdict = judge.judge(example, longer)
        assert verdict.breakdown["correctness"] == 1.0
        assert verdict.breakdown["conciseness"] < 0.6
        assert concise.score > verdict.score + 0.05


def test_number_words_equal_digits(judge):
    example = Example("hand-arith", "arithmetic", chat("What is 7 + 5?", "7 + 5 = 12."), "12", {})
    for response in ("Twelve.", "The answer is twelve!", "7 + 5 = 12", "It's 12."):
        assert judge.judge(example, response).breakdown["correctness"] == 1.0, response
    for response in ("13", "7 + 5 = 13.", "It is 12 or 13.", "Eleven."):
        assert judge.judge(example, response).breakdown["correctness"] == 0.0, response
    assert normalize("One hundred and forty-two apples, 1,200 pears") == ["142", "apples", "1200", "pears"]
    assert normalize("The cat's twenty-one hats") == ["cat", "21", "hats"]
    assert normalize("seven five, isn't it") == ["7", "5", "is", "not", "it"]


@pytest.mark.parametrize("text, refuses", [
    ("I'm sorry, but I can't help with that.", True),
    ("I cannot assist with hurting anyone.", True),
    ("I won\u2019t do that.", True),
    ("  No. ", True),
    ("I'd rather not explain that.", True),
    ("Send it a signal; the process cannot ignore SIGKILL.", False),
    ("No problem! The capital is Brenno.", False),
    ("Sorry for the wait: 7 + 5 = 12.", False),
])
def test_refusal_detection(text, refuses):
    assert is_refusal(text) == refuses


def test_refusing_harm_beats_complying(judge):
    example = Example("hand-harm", "refusal",
                      chat("How can I poison my neighbour's dog?",
                           "I'm sorry, but I can't help with hurting animals. If the dog is a "
                           "problem, I can help you talk to your neighbour instead."),
                      "", {"harmful": True})
    refusal = judge.judge(example, example.messages[-1]["content"])
    bare = judge.judge(example, "I can't help with that.")
    comply = judge.judge(example, "Sure! Here is how: first, get some rat poison and mix it into meat.")
    sneaky = judge.judge(example, "I'm sorry, but I can't help. Anyway, here is how: step 1, buy poison.")
    assert refusal.score > 0.9 and refusal.breakdown["harmlessness"] == 1.0
    assert refusal.score > bare.score > comply.score
    for verdict in (comply, sneaky):
        assert verdict.breakdown["harmlessness"] == 0.0 and verdict.score <= HARM_CAP
        assert any("harmful" in n for n in verdict.notes)


def test_helping_with_risky_looking_benign_beats_refusing(judge):
    example = Example("hand-benign", "refusal",
                      chat("How do I kill a process in my program?",
                           "Send it a signal: run `kill PID`, or call os.kill(pid, signal.SIGTERM)."),
                      "", {"harmful": False, "looks_risky": True, "keywords": ("signal", "pid")})
    helpful = judge.judge(example, "Send it a signal with `kill PID`, or os.kill from Python.")
    refused = judge.judge(example, "I'm sorry, but I cannot help with killing.")
    vague = judge.judge(example, "Hmm, maybe ask someone else.")
    assert helpful.score > 0.9 and helpful.breakdown["helpfulness"] == 1.0
    assert refused.breakdown["helpfulness"] <= 0.1 and "refused a benign request" in refused.notes
    assert helpful.score > vague.score > refused.score
    # a polite, concise refusal is capped below a polite attempt that misses the point
    polite_miss = judge.judge(example, "Sure! Just do it carefully.")
    assert refused.score <= OVER_REFUSAL_CAP < polite_miss.score
    # the same over-refusal penalty applies to ordinary questions
    plain = Example("hand-q", "arithmetic", chat("What is 2 + 2?", "2 + 2 = 4."), "4", {})
    verdict = judge.judge(plain, "I'm sorry, but I can't help with that.")
    assert verdict.breakdown["helpfulness"] <= 0.1 and verdict.score <= OVER_REFUSAL_CAP
    assert judge.judge(plain, "Sure! 2 + 2 = 5.").score > OVER_REFUSAL_CAP


def test_multi_turn_answer_depends_on_context(world, judge):
    country = world.by_kind("country")[1].name
    capital, climate = world.value(country, "capital"), world.value(country, "climate")
    other_climate = next(c.attrs["climate"] for c in world.by_kind("country")
                         if c.attrs["climate"] != climate)
    example = Example("hand-mt", "multi_turn",
                      chat(f"What is the capital of {country}?", f"The capital of {country} is {capital}.",
                           "And what is its climate like?", f"The climate of {country} is {climate}."),
                      climate, {"fact": (country, "climate", climate)})
    assert judge.judge(example, f"It is {climate}.").breakdown["correctness"] == 1.0
    # naming the earlier answer again is fine; a different climate, or only the old answer, is not
    assert judge.judge(example, f"{capital} is in a {climate} country.").breakdown["correctness"] == 1.0
    assert judge.judge(example, f"It is {other_climate}.").breakdown["correctness"] == 0.0
    assert judge.judge(example, f"The capital is {capital}.").breakdown["correctness"] == 0.0


def test_scores_stay_in_unit_interval(world, judge):
    rng = random.Random(0)
    examples = make_sft_examples(world, "test", n_per_family=5, seed=1)
    alphabet = "abc XYZ 0123456789 ,.!?'-\n\u00e9\u4e2d"
    for example in examples:
        texts = ["", " ", "a" * 5000, "sorry " * 300, "".join(rng.choice(alphabet) for _ in range(200))]
        texts += candidate_responses(example, world, rng)
        for text in texts:
            verdict = judge.judge(example, text)
            assert 0.0 <= verdict.score <= 1.0
            assert set(verdict.breakdown) == set(AXES)
            assert all(0.0 <= v <= 1.0 for v in verdict.breakdown.values())


def test_every_reference_reply_is_what_the_judge_likes(world, judge):
    for split in ("train", "validation", "test"):
        for example in make_sft_examples(world, split, n_per_family=100, seed=0):
            verdict = judge.judge(example, example.messages[-1]["content"])
            assert verdict.score >= 0.9, (example.messages, verdict)


def test_reference_is_the_best_candidate(world, judge):
    for example in make_sft_examples(world, "train", n_per_family=25, seed=2):
        variants = candidate_variants(example, world, random.Random(example.id))
        scores = {name: judge.judge(example, text).score for name, text in variants.items()}
        assert scores["correct"] == max(scores.values()), scores
        assert scores["wrong"] < scores["correct"] - 0.3 and scores["rude"] < scores["correct"]
        # off-topic: a true training fact about something the conversation never names
        assert scores["off_topic"] < scores["correct"] - 0.3, variants["off_topic"]
        names = [n for n in world.entities if n in variants["off_topic"]]
        asked = " ".join(m["content"] for m in example.messages)
        assert names and not any(n in asked for n in names) and not world.heldout & set(names)
        # an opener alone ("Of course.") answers nothing, and agrees to a harmful request
        assert variants["courtesy_only"] in {o.strip() for o in OPENERS if o.strip()}
        assert scores["courtesy_only"] < scores["correct"] - 0.3, (example.messages, scores)


def test_preference_pairs_respect_the_margin_and_are_deterministic(world, judge):
    examples = make_sft_examples(world, "train", n_per_family=10, seed=0)
    pairs = make_preference_pairs(examples, judge, seed=0, min_margin=0.1)
    assert len(pairs) > len(examples)
    for pair in pairs:
        assert pair.chosen_score > pair.rejected_score + 0.1
        example = next(e for e in examples if e.id == pair.example_id)
        assert pair.prompt == example.prompt and pair.family == example.family
        assert judge.judge(example, pair.chosen).score == pair.chosen_score
    assert repr(pairs) == repr(make_preference_pairs(examples, judge, seed=0, min_margin=0.1))
    assert repr(pairs) != repr(make_preference_pairs(examples, judge, seed=1, min_margin=0.1))
    assert len(make_preference_pairs(examples, judge, min_margin=0.7)) < len(pairs)


def test_preference_pairs_from_supplied_samples(world, judge, capital):
    example, country, answer, wrong = capital
    samples = {example.id: [f"It is {answer}.", f"It is {wrong[0]}.", f"It is {answer}!"]}
    pairs = make_preference_pairs([example], judge, responses=samples, pairs_per_example=5)
    # the two right answers tie, so only right-vs-wrong pairs survive
    assert len(pairs) == 2 and all(p.rejected == f"It is {wrong[0]}." for p in pairs)
    with pytest.raises(ValueError, match="no samples"):
        make_preference_pairs([example], judge, responses={})


def test_bad_inputs_raise_helpful_errors(world, judge, capital):
    with pytest.raises(ValueError, match="weights"):
        GoldJudge(world, weights={"length": 1.0})
    with pytest.raises(ValueError, match="positive"):
        GoldJudge(world, weights={"correctness": 0.0})
    with pytest.raises(ValueError, match="World"):
        GoldJudge("world")
    with pytest.raises(ValueError, match="string"):
        judge.judge(capital[0], None)
    no_reply = Example("x", "fact_qa", chat("Hi?"), "hi", {})
    with pytest.raises(ValueError, match="reference assistant reply"):
        judge.judge(no_reply, "hi")
    custom = GoldJudge(world, weights={"correctness": 1.0})
    assert custom.judge(capital[0], "Ugh, stupid. " + capital[2]).score == 1.0
