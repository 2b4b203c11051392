"""What every stage shares.

Params and their dataclasses, Parquet I/O and schemas, prompts and language names, progress
reporting.
"""
