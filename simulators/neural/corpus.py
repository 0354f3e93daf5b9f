"""Real text for the ``lm`` family: byte-level tokens of a file or of the built-in corpus.

``corpus="builtin"`` is the standard library's ``pydoc_data.topics`` (the text of Python's
``help()`` topics, about 465k characters of English and code), so a real-text run needs no
download. Any other value is a path to a text file. The text is encoded as UTF-8 bytes and the
distinct bytes that occur in it form the vocabulary (ids in byte order), so ``vocab`` is the
corpus's own alphabet size.

Split (deterministic): the first ``1 - HELD_OUT`` of the bytes are the training text (real
samples are random windows of ``seq_len`` bytes from it); the last ``HELD_OUT`` is held out and
cut into consecutive non-overlapping windows for the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HELD_OUT = 0.1  #: share of the text (its end) held out for metrics


@dataclass
class Corpus:
    train: np.ndarray  #: int64 token ids of the training text
    held_out: np.ndarray  #: int64 token ids of the held-out text
    alphabet: bytes  #: token id -> byte


def read_text(corpus: str) -> bytes:
    """The corpus's bytes (``builtin`` or a file path)."""
    if corpus == "builtin":
        from pydoc_data.topics import topics

        return "\n\n".join(topics[k] for k in sorted(topics)).encode("utf-8")
    return Path(corpus).expanduser().read_bytes()


def load(corpus: str, seq_len: int) -> Corpus:
    """Tokenise and split a corpus; it must hold at least a few windows of ``seq_len`` bytes."""
    raw = np.frombuffer(read_text(corpus), dtype=np.uint8)
    alphabet = np.unique(raw)
    lookup = np.zeros(256, dtype=np.int64)
    lookup[alphabet] = np.arange(len(alphabet))
    ids = lookup[raw]
    cut = int(round(len(ids) * (1.0 - HELD_OUT)))
    train, held_out = ids[:cut], ids[cut:]
    if len(train) < 2 * seq_len or len(held_out) < seq_len:
        raise ValueError(
            f"corpus {corpus!r} is too short ({len(ids)} bytes) for seq_len {seq_len}: "
            f"need at least {int(np.ceil(seq_len / HELD_OUT))} bytes"
        )
    return Corpus(train=train, held_out=held_out, alphabet=bytes(alphabet.tolist()))
