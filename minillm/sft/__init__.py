"""Supervised fine-tuning: the chat template, masked-loss batches, chatting, and the sft stage.

    from minillm.sft import Chat, encode_conversation, load_sft_model
"""

from minillm.sft.chat import Chat, few_shot_prompt, few_shot_replies, replies, reply
from minillm.sft.data import Encoded, SFTBatches, encode_examples, make_batch, pack_rows, sft_loss
from minillm.sft.template import (
    CHAT_TOKENS,
    END,
    ConversationError,
    add_chat_tokens,
    encode_conversation,
    encode_prompt,
    end_token,
    parse,
    render,
    validate,
)

__all__ = [
    "CHAT_TOKENS", "END", "Chat", "ConversationError", "Encoded", "SFTBatches", "add_chat_tokens",
    "encode_conversation", "encode_examples", "encode_prompt", "end_token", "few_shot_prompt",
    "few_shot_replies", "load_sft_model", "make_batch", "pack_rows", "parse", "render", "replies",
    "reply", "sft_loss", "validate",
]


def load_sft_model(*args, **kwargs):
    """The fine-tuned model (see ``minillm.sft.stage.load_sft_model``)."""
    from minillm.sft.stage import load_sft_model as load

    return load(*args, **kwargs)
