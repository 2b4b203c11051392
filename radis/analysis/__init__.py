"""Analyses of trained methods beyond their scores (gradient similarity: :mod:`.gradcos`)."""
