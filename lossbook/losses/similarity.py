"""Kept for code that imports it from here: the similarity functions live in :mod:`lossbook.similarity`."""

from lossbook.similarity import cos_sim, dot_score, similarity_name

__all__ = ["cos_sim", "dot_score", "similarity_name"]
