"""Evaluation.

Translation, the general-ability suites (lm-eval, safety, instruction following, judge), COMET,
SDRRL's multilingual suite, and the reports.
"""
