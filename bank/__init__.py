"""bank: a schema-first banking REST API."""

__version__ = "1.0.0"
