"""Pictures of training and evaluation: loss curves, similarity matrices, projections, Matryoshka and layer curves.

Every function draws with matplotlib only, returns the ``Figure``, and takes ``ax=`` to draw into an
existing axes (a new figure is made when it is ``None``); none calls ``plt.show()``. In a notebook,
write ``fig = plots.loss_curves(history)`` (or end the line with ``;``) so the figure shows once.

The curve and grid plots take ``lossbook.evaluate``'s results as they are (a ``Grid``: ``dims``,
``layers``, ``values`` with rows = layers and columns = dims, ``metric``; or a result with ``.score``)
and plain data too: ``{dim: value}``, ``(dims, values)``, a dict with ``"dims"``/``"layers"``/``"values"``
keys, or ``{"model name": any of those}`` for several curves on one axes.
"""

from lossbook.plots.anatomy import anatomy_plot, pair_weights_heatmap
from lossbook.plots.curves import dims_layers_heatmap, layer_curves, matryoshka_curves
from lossbook.plots.embeddings import before_after_projection, embedding_projection, pca_2d, similarity_matrix
from lossbook.plots.outcomes import (
    binary_pairs_outcome,
    classes_outcome,
    confusion_outcome,
    in_batch_outcome,
    scored_pairs_outcome,
    teacher_student_outcome,
)
from lossbook.plots.training import loss_comparison_bars, loss_curves

__all__ = [
    "anatomy_plot",
    "before_after_projection",
    "binary_pairs_outcome",
    "classes_outcome",
    "confusion_outcome",
    "dims_layers_heatmap",
    "embedding_projection",
    "in_batch_outcome",
    "layer_curves",
    "loss_comparison_bars",
    "loss_curves",
    "matryoshka_curves",
    "pair_weights_heatmap",
    "pca_2d",
    "scored_pairs_outcome",
    "similarity_matrix",
    "teacher_student_outcome",
]
