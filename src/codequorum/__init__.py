"""codequorum: an ensemble of code LLMs behind one language server."""

__version__ = "0.1.0"
