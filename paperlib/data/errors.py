"""Errors raised by the data layer. Each message says what is wrong and how to fix it."""


class DataError(ValueError):
    """Bad data request or unusable corpus (subclasses ValueError so the CLI prints one line)."""


class CorruptIndexError(DataError):
    """A DDTP index file could not be parsed."""


class VocabularyTooLarge(DataError):
    """The corpus has too little text for the asked vocabulary (SentencePiece's limit)."""

    def __init__(self, vocab_size: int, most: int | None):
        self.vocab_size, self.most = vocab_size, most
        limit = f"SentencePiece allows at most {most} here" if most else "SentencePiece asks for a smaller one"
        super().__init__(f"vocab size {vocab_size} is more than this corpus can fill ({limit}); use a smaller "
                         f"--vocab-size{f' ({most} or less)' if most else ''}, or a larger corpus")
