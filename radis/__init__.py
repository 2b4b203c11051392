"""radis: fine-tune chat LLMs on translation without losing their general abilities."""

__version__ = "0.1.0"
