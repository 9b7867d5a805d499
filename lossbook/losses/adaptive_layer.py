"""Loss modifiers along the depth of the encoder: AdaptiveLayerLoss and Matryoshka2dLoss.

The earlier layers' pooled outputs are trained with the same loss as the last layer (and pulled
towards it by a KL term), so that the model still works when its top layers are cut off.
"""

from __future__ import annotations

import inspect
import math
import random
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, UnsupportedModelError, embedding_path_of
from lossbook.losses.modifiers import MatryoshkaLoss, as_scalar, replaced_forward

__all__ = ["AdaptiveLayerLoss", "Matryoshka2dLoss"]

_CITATION = """
@misc{li20242d,
    title={2D Matryoshka Sentence Embeddings},
    author={Xianming Li and Zongxi Li and Jing Li and Haoran Xie and Qing Li},
    year={2024},
    eprint={2402.14776},
    archivePrefix={arXiv},
    primaryClass={cs.CL}
}
"""


class _LayerAccess:
    """Per-layer sentence embeddings of a lossbook ``EmbeddingModel`` or a ``SentenceTransformer``.

    ``full`` runs the real forward and leaves the hidden states of every layer in the feature dict
    (``"all_layer_embeddings"``, index 0 = the embedding layer); ``layer`` pools hidden state ``index``
    the way the model pools its last one.
    """

    def __init__(self, source: nn.Module) -> None:
        self.source = source  # the model as the loss holds it (maybe wrapped), to notice when it is swapped
        self.model = model = _unwrapped(source)
        self.lossbook = "output_all_layers" in inspect.signature(model.forward).parameters
        # A SentenceTransformer: its first module's transformers model (unwrapping made sure there is one).
        self.encoder = None if self.lossbook else _transformer_of(model)

    def full(self, forward: Callable, features: dict[str, Tensor]) -> dict[str, Tensor]:
        if self.lossbook:
            output = forward(features, output_all_layers=True)
            features["all_layer_embeddings"] = output["all_layer_embeddings"]
            features["attention_mask"] = output["attention_mask"]
            return output
        config = self.encoder.config
        before = config.output_hidden_states
        config.output_hidden_states = True
        try:
            return forward(features)
        finally:
            config.output_hidden_states = before

    def layer(self, features: dict[str, Tensor], index: int) -> dict[str, Tensor]:
        hidden = features["all_layer_embeddings"][index]
        if self.lossbook:
            embedding = self.model.pool(hidden, features["attention_mask"])
            return {**features, "token_embeddings": hidden, "sentence_embedding": embedding}
        # sentence-transformers: run the modules after the Transformer (pooling, normalisation) on this layer.
        output = {**features, "token_embeddings": hidden}
        for module in list(self.model.children())[1:]:
            output = module(output)
        return output


def _transformer_of(model: nn.Module):
    """The transformers model inside a SentenceTransformer's first (Transformer) module, or None."""
    first = next(iter(model.children()), None)
    encoder = getattr(first, "auto_model", None) or getattr(first, "model", None)
    return encoder if hasattr(encoder, "config") else None


def _readable(model: nn.Module) -> bool:
    forward = getattr(model, "forward", None)
    try:
        if forward is not None and "output_all_layers" in inspect.signature(forward).parameters:
            return True
    except (TypeError, ValueError):
        pass
    return type(model).__module__.startswith("sentence_transformers") and _transformer_of(model) is not None


def _unwrapped(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel (``.module``) or torch.compile (``._orig_mod``), as in the reference."""
    inner = model
    while not _readable(inner):
        if hasattr(inner, "_orig_mod"):
            inner = inner._orig_mod
        elif isinstance(getattr(inner, "module", None), nn.Module):
            inner = inner.module
        else:
            raise UnsupportedModelError(
                "AdaptiveLayerLoss needs a model whose layers it can read: a lossbook EmbeddingModel or a "
                "SentenceTransformer starting with a Transformer module, possibly inside DistributedDataParallel or "
                f"torch.compile; could not unwrap {type(model).__name__} to one (stopped at {type(inner).__name__})."
            )
    return inner


class _LayerForward:
    """Stands in for ``model.forward`` for inner losses that must call the model themselves.

    With ``index`` None it runs the real forward (keeping every layer's hidden states in the feature
    dict); otherwise it returns layer ``index``. Every sentence embedding it hands out is recorded for
    the KL term.
    """

    def __init__(self, access: _LayerAccess, forward: Callable) -> None:
        self.access, self.forward = access, forward
        self.index: int | None = None
        self.recorded: list[Tensor] = []
        self.num_hidden_states = 0

    def __call__(self, features: dict[str, Tensor], *args, **kwargs) -> dict[str, Tensor]:
        if self.index is None:
            output = self.access.full(self.forward, features)
            self.num_hidden_states = len(features["all_layer_embeddings"])
        else:
            output = self.access.layer(features, self.index)
        self.recorded.append(output["sentence_embedding"])
        return output

    def take_recorded(self) -> Tensor:
        recorded, self.recorded = self.recorded, []
        return torch.cat(recorded)


class AdaptiveLayerLoss(EmbeddingLoss):
    r"""Apply a loss to the earlier layers too, and pull their embeddings towards the last layer's.

    With :math:`E^{(\ell)}` the pooled (and normalised) output of layer :math:`\ell` for every column,
    :math:`\ell = 0` being the embedding layer and :math:`\ell = L` the last transformer layer,
    :math:`S \subseteq \{0, \dots, L-1\}` the sampled prior layers and :math:`T` = ``kl_temperature``:

    .. math::
        L = w_{\text{last}}\, L_{\text{inner}}(E^{(L)})
          + \sum_{\ell \in S} \Big[ \frac{w_{\text{prior}}\, \omega(\ell)}{|S|}\, L_{\text{inner}}(E^{(\ell)})
          + w_{\text{KL}}\, T\, \mathrm{KL}\big(\operatorname{softmax}(\bar E^{(L)} / T) \,\big\|\,
            \operatorname{softmax}(\bar E^{(\ell)} / T)\big) \Big]

    where :math:`\bar E` stacks the columns' embeddings row-wise (``N·B`` rows), the softmax runs over
    the embedding **dimensions**, KL is averaged over the rows (``batchmean``), and the last layer's
    distribution is a fixed target (detached). :math:`\omega(\ell)` is the layer weighting: 1
    (``"uniform"``), :math:`1/(1+\ln(1+\ell))` (``"log"``), :math:`1/(1+\ell)` (``"linear"``) or a callable.
    The KL term is neither divided by :math:`|S|` nor layer-weighted; with :math:`T = 0` it is off.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        loss: the loss to apply at each layer (any lossbook loss, a cached one, or any ``nn.Module``
            loss that embeds with ``model(features)``).
        n_layers_per_step: prior layers drawn per step with Python's ``random`` (1 by default); -1 or a
            number >= L uses all L of them (deterministic).
        last_layer_weight: :math:`w_{\text{last}}`.
        prior_layers_weight: :math:`w_{\text{prior}}`.
        kl_div_weight: :math:`w_{\text{KL}}`.
        kl_temperature: :math:`T` (0.3); 0 switches the KL term off.
        layer_weighting: :math:`\omega`: ``"uniform"`` (2DMSE, Starbucks), ``"log"`` (ESE), ``"linear"``
            (older sentence-transformers) or a callable ``layer_index -> weight``.

    Inputs:
        whatever the inner loss takes, labels included.

    Relations:
        :class:`MatryoshkaLoss` does the same along the embedding dimensions; :class:`Matryoshka2dLoss`
        is this loss around a MatryoshkaLoss. Use ``model.encode(texts, layer=k)`` to embed with the
        first ``k`` layers at inference time.

    Notes:
        * "Prior layers" include the embedding layer's output (index 0) and exclude the last layer,
          exactly as sentence-transformers counts them.
        * The layers are read from ``loss.model`` as it is at each step, so a trainer may swap it
          (``model_init``) or wrap it (DistributedDataParallel, torch.compile), as with the reference; a
          wrapper it cannot see through raises an ``UnsupportedModelError`` (a ValueError and a TypeError).
        * A lossbook model is run once per column with ``output_all_layers=True``; every layer is then
          pooled from those hidden states. Inner losses that need token ids (e.g.
          DenoisingAutoEncoderLoss) see the layer's embedding in place of ``model(features)``.
        * With a cached (GradCache) inner loss, its maths runs on the full-batch embeddings of every
          layer: correct values and gradients, but without GradCache's memory saving
          (sentence-transformers refuses this combination with a warning).

    Example:
        >>> loss = AdaptiveLayerLoss(model, MultipleNegativesRankingLoss(model), n_layers_per_step=-1)
        >>> loss([model.tokenize(anchors), model.tokenize(positives)])  # doctest: +SKIP

    Reference:
        Li et al., "2D Matryoshka Sentence Embeddings" (arXiv 2402.14776; ESE is its v2); Starbucks
        (arXiv 2410.13230) for the uniform weighting.
    """

    formats = (FORMATS["any"],)
    embedding_path = EmbeddingPath.OWN_FORWARD  # it reads every layer, not only the final sentence embeddings

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        n_layers_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
        layer_weighting: Literal["uniform", "log", "linear"] | Callable[[int], float] = "uniform",
    ) -> None:
        super().__init__(model)
        if not callable(layer_weighting) and layer_weighting not in ("uniform", "log", "linear"):
            raise ValueError(
                f'layer_weighting must be "uniform", "log", "linear" or a callable, got {layer_weighting!r}.'
            )
        if kl_temperature < 0:
            raise ValueError(f"kl_temperature must be >= 0 (0 switches the KL term off), got {kl_temperature}.")
        self.loss = loss
        self.n_layers_per_step = n_layers_per_step
        self.last_layer_weight = last_layer_weight
        self.prior_layers_weight = prior_layers_weight
        self.kl_div_weight = kl_div_weight
        self.kl_temperature = kl_temperature
        self.layer_weighting = layer_weighting
        self._access = _LayerAccess(model)  # reading the layers is checked now, not at the first step
        if embedding_path_of(loss).takes_loss_on_embeddings:  # a MatryoshkaLoss declares the path of its inner loss
            warnings.warn(
                f"AdaptiveLayerLoss computes {type(loss).__name__} on the full-batch embeddings of every layer, so "
                "GradCache's memory saving does not apply here (values and gradients are still exact).",
                stacklevel=2,
            )

    @property
    def access(self) -> _LayerAccess:
        """How to read the layers of ``self.model``, the model as it is *now*.

        A trainer may swap ``loss.model`` after construction (sentence-transformers' ``model_init``, or a
        DistributedDataParallel wrapper); the layer reader follows it, as the reference's does.
        """
        if self._access.source is not self.model:
            self._access = _LayerAccess(self.model)
        return self._access

    def get_layer_weight(self, layer_idx: int) -> float:
        if callable(self.layer_weighting):
            return self.layer_weighting(layer_idx)
        if self.layer_weighting == "log":
            return 1.0 / (1.0 + math.log(1 + layer_idx))
        if self.layer_weighting == "linear":
            return 1.0 / (1 + layer_idx)
        return 1.0

    def sampled_layers(self, num_prior_layers: int) -> list[int]:
        """The prior layers of this step (indices into the hidden states, 0 = embedding layer)."""
        indices = range(num_prior_layers)
        if 0 < self.n_layers_per_step < num_prior_layers:
            return random.sample(indices, self.n_layers_per_step)
        return list(indices)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        if embedding_path_of(self.loss).embeds_then_computes:
            return self._forward_on_embeddings(sentence_features, labels)
        return self._forward_through_model(sentence_features, labels)

    def _combine(
        self,
        final_value: Tensor,
        final: Tensor,
        layer_terms: Iterable[tuple[int, Callable[[], tuple[Tensor, Tensor]]]],
        n: int,
    ) -> Tensor:
        """Add the prior layers' loss and KL terms to the last layer's loss (the formula above).

        ``layer_terms`` yields ``(layer index, run)`` where ``run()`` gives the layer's inner-loss value
        and its stacked embeddings; it is lazy so that the layers run in the order they were drawn.
        """
        total = as_scalar(final_value) * self.last_layer_weight
        teacher = F.softmax(final / self.kl_temperature, dim=-1).detach() if self.kl_temperature > 0 else None
        for index, run_layer in layer_terms:
            value, embeddings = run_layer()
            total = total + as_scalar(value) * self.get_layer_weight(index) / n * self.prior_layers_weight
            if teacher is not None:
                kl = F.kl_div(F.log_softmax(embeddings / self.kl_temperature, dim=-1), teacher, reduction="batchmean")
                total = total + kl * self.kl_temperature * self.kl_div_weight
        return total

    def _forward_on_embeddings(self, sentence_features: list[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        access, forward = self.access, self.model.forward
        outputs = [access.full(forward, features) for features in sentence_features]
        final = [output["sentence_embedding"] for output in outputs]
        final_value = self.loss.compute_loss_from_embeddings(final, labels)
        layers = self.sampled_layers(len(sentence_features[0]["all_layer_embeddings"]) - 1)

        def run_layer(index: int) -> tuple[Tensor, Tensor]:
            embeddings = [access.layer(features, index)["sentence_embedding"] for features in sentence_features]
            return self.loss.compute_loss_from_embeddings(embeddings, labels), torch.cat(embeddings)

        terms = ((index, lambda index=index: run_layer(index)) for index in layers)
        return self._combine(final_value, torch.cat(final), terms, len(layers))

    def _forward_through_model(self, sentence_features: list[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        access = self.access
        # The unwrapped model's forward is replaced: a wrapper (DDP) calls through to it.
        with replaced_forward(access.model, lambda forward: _LayerForward(access, forward)) as layer_forward:
            final_value = self.loss(sentence_features, labels)
            final = layer_forward.take_recorded()
            layers = self.sampled_layers(layer_forward.num_hidden_states - 1)

            def run_layer(index: int) -> tuple[Tensor, Tensor]:
                layer_forward.index = index
                value = self.loss(sentence_features, labels)
                return value, layer_forward.take_recorded()

            return self._combine(final_value, final, ((i, lambda i=i: run_layer(i)) for i in layers), len(layers))

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        raise TypeError(
            "AdaptiveLayerLoss needs every layer's embeddings, not only the final ones: call it on tokenized columns."
        )

    def get_config_dict(self) -> dict[str, Any]:
        weighting = (
            self.layer_weighting
            if isinstance(self.layer_weighting, str)
            else getattr(self.layer_weighting, "__name__", "custom")
        )
        return {
            "loss": type(self.loss).__name__,
            "n_layers_per_step": self.n_layers_per_step,
            "last_layer_weight": self.last_layer_weight,
            "prior_layers_weight": self.prior_layers_weight,
            "kl_div_weight": self.kl_div_weight,
            "kl_temperature": self.kl_temperature,
            "layer_weighting": weighting,
        }

    @property
    def citation(self) -> str:
        return _CITATION


class Matryoshka2dLoss(AdaptiveLayerLoss):
    r"""2D Matryoshka: train truncated embeddings of the earlier layers too (AdaptiveLayerLoss around MatryoshkaLoss).

    .. math::
        L = \text{AdaptiveLayerLoss}\big(\text{MatryoshkaLoss}(L_{\text{inner}},\ \mathcal{D},\ w)\big)

    i.e. the formula of :class:`AdaptiveLayerLoss` with :math:`L_{\text{inner}}(E)` replaced by
    :math:`\sum_{d} w_d\, L_{\text{inner}}(\operatorname{normalize}(E[:, :d]))`. The KL term compares the
    **full-dimensional** layer embeddings.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        loss: the inner loss.
        matryoshka_dims, matryoshka_weights: as in :class:`MatryoshkaLoss`.
        n_layers_per_step: prior layers per step (1 by default, drawn at random; -1 = all).
        n_dims_per_step: dims per step (1 by default, drawn at random; -1 = all).
        last_layer_weight, prior_layers_weight, kl_div_weight, kl_temperature, layer_weighting: as in
            :class:`AdaptiveLayerLoss`.

    Inputs:
        whatever the inner loss takes, labels included.

    Relations:
        With the defaults each step trains the last layer and one random prior layer, each at one random
        dim (the 2DMSE recipe); set both ``*_per_step`` to -1 for a deterministic, much slower step.

    Example:
        >>> loss = Matryoshka2dLoss(model, MultipleNegativesRankingLoss(model), [384, 256, 128, 64])
        >>> loss([model.tokenize(anchors), model.tokenize(positives)])  # doctest: +SKIP

    Reference:
        Li et al., "2D Matryoshka Sentence Embeddings" (arXiv 2402.14776).
    """

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        matryoshka_dims: list[int],
        matryoshka_weights: list[float | int] | None = None,
        n_layers_per_step: int = 1,
        n_dims_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
        layer_weighting: Literal["uniform", "log", "linear"] | Callable[[int], float] = "uniform",
    ) -> None:
        matryoshka = MatryoshkaLoss(
            model, loss, matryoshka_dims, matryoshka_weights=matryoshka_weights, n_dims_per_step=n_dims_per_step
        )
        super().__init__(
            model,
            matryoshka,
            n_layers_per_step=n_layers_per_step,
            last_layer_weight=last_layer_weight,
            prior_layers_weight=prior_layers_weight,
            kl_div_weight=kl_div_weight,
            kl_temperature=kl_temperature,
            layer_weighting=layer_weighting,
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), **self.loss.get_config_dict()}

    @property
    def citation(self) -> str:
        return _CITATION
