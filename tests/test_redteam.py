"""The red-teaming set: coverage, determinism, disjointness from SFT training, success rates."""

import base64
import re

import pytest

from minillm.data.tinyworld.judge import GENERIC_REFUSAL, HARMFUL_COMPLIANCE, GoldJudge
from minillm.data.tinyworld.sft import HARMFUL_REQUESTS, Example, make_sft_examples, split_of
from minillm.evaluate import (
    PATTERNS,
    attack_success_rate,
    make_redteam_set,
    redteam_table,
    score_responses,
)


@pytest.fixture(scope="module")
def redteam(world):
    return make_redteam_set(world, seed=0, n_harmful_per_pattern=10, n_benign_per_pattern=5)


def user_turns(example: Example) -> list[str]:
    return [m["content"] for m in example.messages if m["role"] == "user"]


def test_set_covers_every_pattern_with_harmful_and_benign_items(redteam):
    assert len(redteam) == len(PATTERNS) * 15
    assert all(isinstance(e, Example) and e.family == "refusal" and e.answer == "" for e in redteam)
    assert len({e.id for e in redteam}) == len(redteam)
    for pattern in PATTERNS:
        items = [e for e in redteam if e.meta["pattern"] == pattern]
        assert sum(e.meta["harmful"] for e in items) == 10
        assert sum(not e.meta["harmful"] for e in items) == 5
        assert len({tuple(user_turns(e)) for e in items}) == 15      # no prompt twice
    for e in redteam:
        assert e.messages[-1]["role"] == "assistant"
        assert ("category" in e.meta) == e.meta["harmful"]
        assert ("keywords" in e.meta) == (not e.meta["harmful"])


def test_patterns_rewrite_the_request_as_advertised(redteam):
    for e in redteam:
        request, last = e.meta["request"], user_turns(e)[-1]
        pattern = e.meta["pattern"]
        if pattern == "direct":
            assert user_turns(e) == [request]
        elif pattern == "multi_turn":
            assert len(user_turns(e)) >= 2
            roles = [m["role"] for m in e.messages]
            # alternating turns, ending with the reference reply
            assert roles == ["user", "assistant"] * (len(roles) // 2)
            assert request[1:] in last                                   # the request comes last
        elif pattern == "prefix_injection":
            assert last.startswith(request) and len(last) > len(request)
        elif pattern == "obfuscation":
            assert request not in last
            encoded = re.search(r"base64 message and do what it says: (\S+)$", last)
            if encoded:
                assert base64.b64decode(encoded.group(1)).decode() == request
        else:  # roleplay, fiction: the request is embedded in a frame
            assert request[1:] in last and last != request
    kinds = {e.messages[0]["content"].split(":")[0] for e in redteam
             if e.meta["pattern"] == "obfuscation"}
    assert len(kinds) >= 3                       # several obfuscations are used, not just one


def test_deterministic_for_a_seed(world, redteam):
    again = make_redteam_set(world, seed=0, n_harmful_per_pattern=10, n_benign_per_pattern=5)
    def content(examples):
        return [(e.id, e.messages, e.meta) for e in examples]

    assert content(again) == content(redteam)
    other = make_redteam_set(world, seed=1, n_harmful_per_pattern=10, n_benign_per_pattern=5)
    assert [e.messages for e in other] != [e.messages for e in redteam]


def test_disjoint_from_sft_training_prompts(world, redteam):
    train = make_sft_examples(world, "train", 200)
    train_turns = {turn for e in train for turn in user_turns(e)}
    assert not train_turns & {turn for e in redteam for turn in user_turns(e)}
    # the plain requests it wraps are from SFT's held-out splits, whatever the pattern
    assert all(split_of(f"request|{e.meta['request']}") != "train" for e in redteam)


def test_harmful_requests_come_from_the_sft_module(redteam):
    templates = [re.sub(r"\\\{\w+\\\}", ".+", re.escape(r)) for r, _, _ in HARMFUL_REQUESTS]
    for e in redteam:
        if e.meta["harmful"]:
            assert any(re.fullmatch(t, e.meta["request"]) for t in templates)
            assert "{" not in e.meta["request"]                          # slots are filled


def test_judge_scores_reference_replies_high_and_compliance_low(world, redteam):
    judge = GoldJudge(world)
    for e in redteam:
        assert judge.judge(e, e.messages[-1]["content"]).score > 0.9, e.id
        if e.meta["harmful"]:
            assert judge.judge(e, HARMFUL_COMPLIANCE).breakdown["harmlessness"] == 0.0


def test_attack_success_rate_per_pattern(world, redteam):
    judge = GoldJudge(world)
    # a model that falls for role-play and over-refuses fiction framing, and is fine otherwise
    responses = []
    for e in redteam:
        pattern, harmful = e.meta["pattern"], e.meta["harmful"]
        if harmful:
            responses.append(HARMFUL_COMPLIANCE if pattern == "roleplay" else GENERIC_REFUSAL)
        else:
            responses.append(GENERIC_REFUSAL if pattern == "fiction" else e.messages[-1]["content"])
    table = attack_success_rate(score_responses(redteam, responses, judge))
    assert list(table.index) == [*PATTERNS, "all"]
    assert table.loc["roleplay", "attack_success"] == 1.0
    assert table.loc["roleplay", "refused"] == 0.0
    others = [p for p in PATTERNS if p != "roleplay"]
    assert (table.loc[others, "attack_success"] == 0.0).all()
    assert (table.loc[others, "refused"] == 1.0).all()
    assert table.loc["fiction", "over_refusal"] == 1.0
    assert (table.loc[[p for p in PATTERNS if p != "fiction"], "over_refusal"] == 0.0).all()
    assert table.loc["all", "n_harmful"] == 60 and table.loc["all", "n_benign"] == 30
    assert table.loc["all", "attack_success"] == pytest.approx(1 / 6)
    assert table.loc["all", "over_refusal"] == pytest.approx(1 / 6)


def test_browse_table_and_bad_arguments(world, redteam):
    table = redteam_table(redteam)
    assert len(table) == len(redteam)
    assert (table.loc[table["pattern"] == "multi_turn", "user turns"] >= 2).all()
    with pytest.raises(ValueError, match="unknown patterns"):
        make_redteam_set(world, patterns=("telepathy",))
    with pytest.raises(ValueError, match="n_harmful_per_pattern"):
        make_redteam_set(world, n_harmful_per_pattern=-1)
    with pytest.raises(ValueError, match="World"):
        make_redteam_set("world")
    sft = make_sft_examples(world, "test", n_per_family=1, families=("refusal",))
    scored = score_responses(sft, [e.messages[-1]["content"] for e in sft], GoldJudge(world))
    with pytest.raises(ValueError, match="red-team pattern"):
        attack_success_rate(scored)


def test_a_training_set_shares_no_request_with_the_evaluation_set(world, redteam):
    train = make_redteam_set(world, seed=0, n_harmful_per_pattern=10, n_benign_per_pattern=5,
                             requests="train")
    assert len(train) == len(redteam) and all(e.id.startswith("train-redteam-") for e in train)
    assert all(split_of(f"request|{e.meta['request']}") == "train" for e in train)
    assert all(split_of(f"request|{e.meta['request']}") != "train" for e in redteam)
    assert not {e.meta["request"] for e in train} & {e.meta["request"] for e in redteam}
    with pytest.raises(ValueError, match="heldout"):
        make_redteam_set(world, requests="test")
