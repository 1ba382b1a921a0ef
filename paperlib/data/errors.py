"""Errors raised by the data layer. Each message says what is wrong and how to fix it."""


class DataError(ValueError):
    """Bad data request or unusable corpus (subclasses ValueError so the CLI prints one line)."""


class CorruptIndexError(DataError):
    """A DDTP index file could not be parsed."""
