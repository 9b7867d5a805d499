"""Losses for pairs with a label: match / no match (contrastive) or a class (softmax classifier)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError, check_labels_present
from lossbook.similarity import (
    distance_metric_name,
    torch_cosine_distance,
    torch_euclidean_distance,
    torch_manhattan_distance,
)

__all__ = ["ContrastiveLoss", "OnlineContrastiveLoss", "SiameseDistanceMetric", "SoftmaxLoss"]

_BINARY_HINT = (
    "Use (anchor, positive/negative) pairs with a 'label' column of 1 (match) or 0 (no match); convert scored pairs "
    "with lossbook.convert.scored_pairs_to_binary_pairs, triplets with lossbook.convert.triplets_to_binary_pairs."
)


class SiameseDistanceMetric:
    """Row-wise distances for the contrastive losses: ``metric(x, y)`` gives one distance per row.

    ``EUCLIDEAN`` and ``MANHATTAN`` are ``torch.nn.functional.pairwise_distance``, which adds 1e-6 to
    every coordinate difference (so identical rows are ~1e-6 apart, not 0), as in sentence-transformers.
    ``COSINE_DISTANCE`` is ``1 - cos`` (in [0, 2]). Any callable ``(x, y) -> (batch,)`` works too.
    """

    EUCLIDEAN = staticmethod(torch_euclidean_distance)
    MANHATTAN = staticmethod(torch_manhattan_distance)
    COSINE_DISTANCE = staticmethod(torch_cosine_distance)


class _BinaryPairLoss(EmbeddingLoss):
    """The two contrastive losses: two columns, one label in [0, 1] per pair, a warning for non-binary labels."""

    formats = (FORMATS["pair-binary"],)
    column_hint = label_hint = _BINARY_HINT
    _non_binary_effect = ""

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        labels = super().check_labels(embeddings, labels)
        if not self._warned_non_binary and ((labels != 0) & (labels != 1)).any().item():
            self._warned_non_binary = True
            warnings.warn(
                f"{type(self).__name__} expects binary labels (0 or 1); " + self._non_binary_effect,
                UserWarning,
                stacklevel=4,
            )
        return labels


class ContrastiveLoss(_BinaryPairLoss):
    r"""Pull matching pairs together, push non-matching pairs at least ``margin`` apart.

    With :math:`d_i` = ``distance_metric(u_i, v_i)``, :math:`y_i \in \{0, 1\}` and :math:`m` = ``margin``:

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \tfrac12 \Big(y_i\, d_i^2 + (1 - y_i) \max(0,\, m - d_i)^2\Big)

    (the sum instead of the mean when ``size_average=False``). A non-matching pair farther apart than
    the margin costs nothing; a matching pair costs until it coincides.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``SiameseDistanceMetric.COSINE_DISTANCE`` (``1 - cos``, default), ``EUCLIDEAN``,
            ``MANHATTAN`` or any ``(x, y) -> (batch,)`` callable.
        margin: distance beyond which non-matching pairs stop contributing; 0.5 by default (pick it on
            the metric's scale: cosine distance lies in [0, 2]).
        size_average: mean over the batch (default) or sum.

    Inputs:
        (anchor, positive/negative) pairs + 1 if positive, 0 if negative ('pair-binary'). Labels
        between 0 and 1 weight the two terms (a warning says so, as in the reference); labels outside
        [0, 1] (e.g. -1/+1) raise a ``LossInputError`` where the reference would compute a negative loss.

    Relations:
        :class:`OnlineContrastiveLoss` uses only the hard pairs of each batch. :class:`CosineSimilarityLoss`
        on 0/1 scores pulls negatives to cosine 0 instead of to a margin.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.labelled_pairs import ContrastiveLoss
        >>> model = load_model()
        >>> loss = ContrastiveLoss(model)
        >>> a = model.tokenize(["The cat chased the dog.", "A plane takes off."])
        >>> b = model.tokenize(["The dog chased the cat.", "An airplane departs."])
        >>> loss([a, b], torch.tensor([0, 1]))  # doctest: +SKIP

    Reference:
        Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006.
    """

    commonly_used = (FORMATS["pair-binary"],)
    _non_binary_effect = "other values weight the positive term by the label and the negative term by 1 - label."

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor, Tensor], Tensor] = SiameseDistanceMetric.COSINE_DISTANCE,
        margin: float = 0.5,
        size_average: bool = True,
    ) -> None:
        super().__init__(model)
        self.distance_metric = distance_metric
        self.margin = margin
        self.size_average = size_average
        self._warned_non_binary = False

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        distances = self.distance_metric(*embeddings)  # (batch,)
        labels = labels.to(distances.dtype)
        losses = 0.5 * (labels * distances.pow(2) + (1 - labels) * F.relu(self.margin - distances).pow(2))
        return losses.mean() if self.size_average else losses.sum()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": distance_metric_name(self.distance_metric, SiameseDistanceMetric),
            "margin": self.margin,
            "size_average": self.size_average,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{hadsell2006dimensionality,
    author={Hadsell, R. and Chopra, S. and LeCun, Y.},
    booktitle={2006 IEEE Computer Society Conference on Computer Vision and Pattern Recognition (CVPR'06)},
    title={Dimensionality Reduction by Learning an Invariant Mapping},
    year={2006},
    volume={2},
    number={},
    pages={1735-1742},
    doi={10.1109/CVPR.2006.100}
}
"""


class OnlineContrastiveLoss(_BinaryPairLoss):
    r"""Contrastive loss on the hard pairs of the batch only, **summed** (no mean, no ½).

    With distances :math:`d_i`, positives :math:`P = \{i: y_i = 1\}` and negatives :math:`N = \{i: y_i = 0\}`:
    hard negatives are those closer than the farthest positive, hard positives those farther than the
    closest negative,

    .. math::
        N^* = \{i \in N: d_i < \max_{p \in P} d_p\}, \qquad P^* = \{i \in P: d_i > \min_{n \in N} d_n\},

        L = \sum_{i \in P^*} d_i^2 + \sum_{i \in N^*} \max(0,\, m - d_i)^2

    When the batch has no positives the threshold for negatives is the mean negative distance, and
    with no negatives the threshold for positives is the mean positive distance. A batch whose
    positives are all closer than all its negatives gives 0.

    The value is a **sum** over the selected pairs, so it grows with the batch size (unlike
    :class:`ContrastiveLoss`'s mean).

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``SiameseDistanceMetric.COSINE_DISTANCE`` (default), ``EUCLIDEAN``, ``MANHATTAN``
            or any ``(x, y) -> (batch,)`` callable.
        margin: the distance non-matching pairs are pushed beyond; 0.5 by default.

    Inputs:
        (anchor, positive/negative) pairs + 1 if positive, 0 if negative ('pair-binary'). Pairs with a
        label other than 0 or 1 are ignored (with a warning, as in the reference); labels outside [0, 1]
        raise a ``LossInputError``. Works best when the data holds hard positives and hard negatives.

    Relations:
        :class:`ContrastiveLoss` averages over every pair; this loss mines the hard ones in the batch,
        which often trains better.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.labelled_pairs import OnlineContrastiveLoss
        >>> model = load_model()
        >>> loss = OnlineContrastiveLoss(model)
        >>> a = model.tokenize(["How old are you?", "How old are you?"])
        >>> b = model.tokenize(["What is your age?", "Where are you from?"])
        >>> loss([a, b], torch.tensor([1, 0]))  # doctest: +SKIP

    Reference:
        Hadsell et al. (CVPR 2006) with online hard-pair mining; sentence-transformers defines no
        ``citation`` for this loss, so ``citation`` is None.
    """

    _non_binary_effect = "pairs with any other label are ignored (neither positive nor negative)."

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor, Tensor], Tensor] = SiameseDistanceMetric.COSINE_DISTANCE,
        margin: float = 0.5,
    ) -> None:
        super().__init__(model)
        self.distance_metric = distance_metric
        self.margin = margin
        self._warned_non_binary = False

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        distances = self.distance_metric(*embeddings)  # (batch,)
        negatives, positives = distances[labels == 0], distances[labels == 1]
        negative_threshold = positives.max() if len(positives) else negatives.mean()
        positive_threshold = negatives.min() if len(negatives) else positives.mean()
        hard_negatives = negatives[negatives < negative_threshold]
        hard_positives = positives[positives > positive_threshold]
        return hard_positives.pow(2).sum() + F.relu(self.margin - hard_negatives).pow(2).sum()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": distance_metric_name(self.distance_metric, SiameseDistanceMetric),
            "margin": self.margin,
        }


def _renamed_kwargs(**renames: str) -> Callable:
    """Accept an old keyword name for a parameter (with a DeprecationWarning), as the reference does."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"Give either {new!r} or its deprecated alias {old!r}, not both.")
                    warnings.warn(f"{old!r} is deprecated; use {new!r}.", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


class SoftmaxLoss(EmbeddingLoss):
    r"""Classify each pair from its two embeddings with a linear softmax head (SBERT's NLI objective).

    With :math:`u = \text{model}(A)`, :math:`v = \text{model}(B)` and the features chosen by the flags,

    .. math::
        z_i = W\,[u_i;\ v_i;\ |u_i - v_i|;\ u_i \odot v_i] + b, \qquad
        L = \frac{1}{B} \sum_{i=1}^{B} -\log \operatorname{softmax}(z_i)_{y_i}

    (the default ``nn.CrossEntropyLoss``; with class probabilities :math:`q_i` the term is
    :math:`-\sum_c q_{ic} \log \operatorname{softmax}(z_i)_c`; another ``loss_fct`` replaces the whole
    cross-entropy).

    The head ``self.classifier = nn.Linear(k * embedding_dimension, num_labels)`` is a parameter of the
    **loss**, randomly initialised by torch's default RNG: it is trained together with the model
    (optimise ``loss.parameters()``, which include the model's) but it is **not saved with the model**;
    save ``loss.classifier.state_dict()`` yourself if you need it.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        embedding_dimension: the model's embedding size (384 for all-MiniLM-L6-v2). The older name
            ``sentence_embedding_dimension`` still works, with a DeprecationWarning (as in the reference).
        num_labels: the number of classes.
        concatenation_sent_rep: include ``u`` and ``v``.
        concatenation_sent_difference: include ``|u - v|``.
        concatenation_sent_multiplication: include ``u * v``.
        loss_fct: compares logits and labels; ``nn.CrossEntropyLoss()`` by default (``None``).

    Inputs:
        (sentence_A, sentence_B) pairs + a class id 0..num_labels-1 ('pair-class'), or float class
        probabilities of shape ``(batch, num_labels)`` that sum to 1 per pair. With the default
        cross-entropy, float class ids, ids ``>= num_labels`` or negative ids (other than
        ``ignore_index``) and probabilities that do not sum to 1 raise a ``LossInputError``.

    Note:
        The reference's ``forward`` returns ``(embeddings, logits)`` when ``labels`` is None (its
        ``LabelAccuracyEvaluator`` relies on that). Here a missing label is an error, so that a data set
        without a label column fails clearly; call :meth:`predict` for the logits.

    Relations:
        ``MultipleNegativesRankingLoss`` on (anchor, entailment, contradiction) triplets usually gives
        better embeddings from the same NLI data (convert with ``lossbook.convert.pair_class_to_triplets``).

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.labelled_pairs import SoftmaxLoss
        >>> model = load_model()
        >>> loss = SoftmaxLoss(model, model.get_sentence_embedding_dimension(), num_labels=3)
        >>> a = model.tokenize(["A man plays a guitar."])
        >>> b = model.tokenize(["A man makes music."])
        >>> loss([a, b], torch.tensor([0]))  # doctest: +SKIP

    Reference:
        Reimers & Gurevych, "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks", EMNLP 2019
        (arXiv 1908.10084).
    """

    formats = (FORMATS["pair-class"],)
    commonly_used = (FORMATS["pair-class"],)
    column_hint = "Use (sentence_A, sentence_B) pairs with a class 'label' column."
    label_hint = (
        "Use (sentence_A, sentence_B) pairs with a class 'label' column (e.g. NLI: 0, 1, 2) or class probabilities "
        "of shape (batch, num_labels); for the logits without a loss call loss.predict(sentence_features)."
    )

    @_renamed_kwargs(sentence_embedding_dimension="embedding_dimension")
    def __init__(
        self,
        model: nn.Module,
        embedding_dimension: int,
        num_labels: int,
        concatenation_sent_rep: bool = True,
        concatenation_sent_difference: bool = True,
        concatenation_sent_multiplication: bool = False,
        loss_fct: Callable | None = None,
    ) -> None:
        super().__init__(model)
        self.num_labels = num_labels
        self.concatenation_sent_rep = concatenation_sent_rep
        self.concatenation_sent_difference = concatenation_sent_difference
        self.concatenation_sent_multiplication = concatenation_sent_multiplication
        num_vectors = 2 * concatenation_sent_rep + concatenation_sent_difference + concatenation_sent_multiplication
        if num_vectors == 0:
            raise ValueError(
                "SoftmaxLoss needs at least one of concatenation_sent_rep, concatenation_sent_difference or "
                "concatenation_sent_multiplication to be True."
            )
        self.embedding_dimension = embedding_dimension
        self.classifier = nn.Linear(
            num_vectors * embedding_dimension, num_labels, device=getattr(model, "device", None)
        )
        self.loss_fct = nn.CrossEntropyLoss() if loss_fct is None else loss_fct

    def predict(self, sentence_features: Iterable[dict[str, Tensor]]) -> tuple[list[Tensor], Tensor]:
        """The two columns' embeddings and the head's logits ``(batch, num_labels)``, without a loss."""
        embeddings = self.embed(sentence_features)
        self.check_columns(embeddings)
        return embeddings, self.logits(embeddings)

    def logits(self, embeddings: list[Tensor]) -> Tensor:
        """``W [u; v; |u - v|; u * v] + b`` with the parts the flags choose: ``(batch, num_labels)``."""
        return self.classify_features(self.pair_features(embeddings))

    def pair_features(self, embeddings: list[Tensor]) -> Tensor:
        """``[u; v; |u - v|; u * v]`` with the parts the flags choose: ``(batch, k * dim)``."""
        u, v = embeddings
        if u.shape[-1] != self.embedding_dimension:
            raise LossInputError(
                f"SoftmaxLoss was built for {self.embedding_dimension}-dimensional embeddings but got {u.shape[-1]}; "
                "pass embedding_dimension=model.get_sentence_embedding_dimension()."
            )
        parts = []
        if self.concatenation_sent_rep:
            parts += [u, v]
        if self.concatenation_sent_difference:
            parts.append((u - v).abs())
        if self.concatenation_sent_multiplication:
            parts.append(u * v)
        return torch.cat(parts, dim=1)

    def classify_features(self, features: Tensor, classifier: nn.Module | None = None) -> Tensor:
        """The head's logits for ``pair_features``; ``classifier``: another head of the same shape (a snapshot)."""
        classifier = self.classifier if classifier is None else classifier
        return classifier(features.to(classifier.weight.dtype))

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        return self.loss_fct(self.logits(embeddings), labels)

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """Class ids within ``num_labels``, class probabilities, or whatever a custom ``loss_fct`` reads."""
        batch = embeddings[0].shape[0]
        labels = labels if labels is None or isinstance(labels, Tensor) else torch.as_tensor(labels)
        if not isinstance(self.loss_fct, nn.CrossEntropyLoss):
            # A custom loss defines its own labels; reshape them as the reference does.
            labels = check_labels_present(self, labels, what="a class id per pair", hint=self.label_hint)
            labels = labels.to(embeddings[0].device)
            return labels.reshape(-1) if self.num_labels == 1 or labels.shape != (batch, self.num_labels) else labels
        probabilities = labels is not None and labels.is_floating_point() and labels.shape == (batch, self.num_labels)
        if probabilities and self.num_labels > 1:
            return self._check_probabilities(labels.to(embeddings[0].device))
        labels = super().check_labels(embeddings, labels)
        counted = labels[labels != self.loss_fct.ignore_index]
        if counted.numel() and (counted.min().item() < 0 or counted.max().item() >= self.num_labels):
            raise LossInputError(
                f"SoftmaxLoss was built with num_labels={self.num_labels}, "
                f"so class ids must be 0..{self.num_labels - 1}, "
                f"but got ids from {counted.min().item()} to {counted.max().item()}. Build it with "
                f"num_labels={counted.max().item() + 1} or remap the labels."
            )
        return labels

    def _check_probabilities(self, labels: Tensor) -> Tensor:
        sums = labels.sum(dim=1)
        if (labels < 0).any().item() or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
            raise LossInputError(
                "SoftmaxLoss read the float labels of shape (batch, num_labels) as class probabilities, but they are "
                f"not non-negative rows summing to 1 (row sums from {sums.min().item():g} to {sums.max().item():g})."
            )
        return labels.to(self.classifier.weight.dtype)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "num_labels": self.num_labels,
            "concatenation_sent_rep": self.concatenation_sent_rep,
            "concatenation_sent_difference": self.concatenation_sent_difference,
            "concatenation_sent_multiplication": self.concatenation_sent_multiplication,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{reimers-2019-sentence-bert,
    title = "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2019",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/1908.10084",
}
"""
