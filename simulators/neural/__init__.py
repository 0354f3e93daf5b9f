"""Torch building blocks of the neural families (``lm``, ``vae``).

Only the family methods import these modules, so importing ``simulators.families.lm`` or
``simulators.families.vae`` (which the registry does to list simulators) never imports torch.

``source``   the synthetic language whose probabilities are exact (a topic-switching Markov chain)
             and the exact-source metrics computed on its contexts.
``corpus``   character/byte-level real text (a file, or the standard library's pydoc topics).
``batched``  stacked-parameter modules with a leading seed axis (a small transformer LM and an MLP
             VAE), written as functions of a parameter dict so that S seeds train as one model,
             plus the shared minibatch Adam loop.
"""

from __future__ import annotations


def min_vocab(topics: int) -> int:
    """Smallest vocabulary of the synthetic language with ``topics`` topics: one marker per topic
    plus at least two content tokens for the shared vocabulary and for each topic's own.
    (Torch-free, so parameter validation does not import torch.)"""
    return topics + 2 * (topics + 1)
