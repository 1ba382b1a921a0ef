"""Data: corpora (DDTP, a user folder, the hub), leak-free splits, a local tokenizer,
experiment task sets, and tokenized per-task Arrow datasets."""

from .errors import CorruptIndexError, DataError, VocabularyTooLarge
from .pipeline import PreparedData, load_prepared, prepare
from .tasksets import TASKSETS, TaskSet, epochs_table, get_taskset

__all__ = [
    "CorruptIndexError", "DataError", "PreparedData", "TASKSETS", "TaskSet",
    "epochs_table", "get_taskset", "load_prepared", "prepare",
]
