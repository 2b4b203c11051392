"""SDRRL's data.

Self answers, their machine translation, the QE and off-target filter, dictionary code-switching,
and its training sets.
"""
