"""lossbook: understand and try the loss functions that fine-tune sentence-embedding models.

The few names a notebook needs are re-exported here; everything else lives in its module:
``lossbook.losses`` (every loss), ``lossbook.convert`` (format converters), ``lossbook.table``,
``lossbook.evaluate``, ``lossbook.plots``, ``lossbook.widgets``.
"""

from lossbook.checks import check
from lossbook.data import DATASETS, load_dataset, load_retrieval
from lossbook.detect import detect_format
from lossbook.formats import FORMATS, Format
from lossbook.history import History
from lossbook.model import DEFAULT_MODEL, EmbeddingModel, load_model, tiny_model
from lossbook.planner import plan
from lossbook.table import losses_for, render_table
from lossbook.train import TrainingError, train
from lossbook.version import __version__

__all__ = [
    "__version__",
    "DATASETS",
    "DEFAULT_MODEL",
    "EmbeddingModel",
    "FORMATS",
    "Format",
    "History",
    "TrainingError",
    "check",
    "detect_format",
    "load_dataset",
    "load_model",
    "load_retrieval",
    "losses_for",
    "plan",
    "render_table",
    "tiny_model",
    "train",
]
