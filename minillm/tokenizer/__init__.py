"""Stage 2: byte-level BPE tokenization (minbpe-style, one idea per file).

- ``patterns``     GPT-2 / GPT-4 pre-tokenization regexes and pre-token counting
- ``bpe``          the pure-Python ``Tokenizer`` (readable encode/decode, tiktoken's semantics)
- ``train``        ``train_bpe``: BPE training with incremental pair counts
- ``tiktoken_io``  export to ``tiktoken.Encoding``, save/load, real encodings (cl100k_base, gpt2)
- ``shards``       corpus -> flat uint16/uint32 memmap token shards
- ``stage``        profile configs and the ``tokenizer`` / ``token_shards`` artifacts

    from minillm.tokenizer import train_bpe, to_tiktoken
    result = train_bpe(documents, vocab_size=1024)
    enc = to_tiktoken(result.tokenizer)
    enc.decode(enc.encode("Hello world")) == "Hello world"
"""

from minillm.tokenizer.bpe import (
    CHAT_SPECIAL_TOKENS,
    DEFAULT_SPECIAL_TOKENS,
    ENDOFTEXT,
    Tokenizer,
    bpe_merge,
)
from minillm.tokenizer.patterns import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    count_pretokens,
    pretokenize,
)
from minillm.tokenizer.shards import read_shard, split_documents, write_shard
from minillm.tokenizer.stage import load_reference_tokenizer, load_token_shard, load_tokenizer
from minillm.tokenizer.tiktoken_io import (
    from_tiktoken,
    load_encoding,
    load_tiktoken,
    load_tokenizer_files,
    save_tokenizer,
    to_tiktoken,
)
from minillm.tokenizer.train import TrainResult, train_bpe, truncate

__all__ = [
    "CHAT_SPECIAL_TOKENS", "DEFAULT_SPECIAL_TOKENS", "ENDOFTEXT", "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN", "Tokenizer", "TrainResult", "bpe_merge", "count_pretokens",
    "from_tiktoken", "load_encoding", "load_reference_tokenizer", "load_tiktoken",
    "load_token_shard", "load_tokenizer", "load_tokenizer_files", "pretokenize", "read_shard",
    "save_tokenizer", "split_documents", "to_tiktoken", "train_bpe", "truncate", "write_shard",
]
