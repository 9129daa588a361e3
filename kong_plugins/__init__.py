"""Kong OSS 3.9 Python plugins for an Amazon Bedrock LLM gateway."""

__version__ = "0.1.0"
