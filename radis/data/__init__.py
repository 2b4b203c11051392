"""RaDis's data.

Fetching (hub and mirrors), the backbone, rationales, the backbone's own translations and rewrites,
and every method's training set (the recipes).
"""
