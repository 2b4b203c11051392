"""Generation.

The backend interface, the HF and vLLM backends, resumable shards, data-parallel engines, how a
method's model is served, and what a reply's text contains.
"""
