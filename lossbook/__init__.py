"""lossbook: understand and try the loss functions that fine-tune sentence-embedding models.

The few names a notebook needs are re-exported here; everything else lives in its module.
"""

__version__ = "0.1.0"

from lossbook.data import DATASETS, load_dataset
from lossbook.model import DEFAULT_MODEL, EmbeddingModel, load_model, tiny_model

__all__ = ["DATASETS", "DEFAULT_MODEL", "EmbeddingModel", "load_dataset", "load_model", "tiny_model"]
