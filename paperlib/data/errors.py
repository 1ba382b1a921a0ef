"""Errors raised by the data layer. Each message says what is wrong and how to fix it."""


class DataError(ValueError):
    """Bad data request or unusable corpus (subclasses ValueError so the CLI prints one line)."""


class CorruptIndexError(DataError):
    """A DDTP index file could not be parsed."""


class VocabularyTooLarge(DataError):
    """The corpus has too little text for the asked vocabulary (SentencePiece's limit)."""

    def __init__(self, vocab_size: int, most: int | None):
        self.vocab_size, self.most = vocab_size, most
        super().__init__(f"vocab size {vocab_size} is more than this corpus can fill (SentencePiece allows at most "
                         f"{most if most else 'fewer'} here); use --vocab-size {most or 'smaller'} or less, or a larger corpus")
