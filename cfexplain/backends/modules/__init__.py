"""Torch modules, one file per modality (a *module* in skorch's vocabulary).

Every generator is a :class:`CounterfactualModule`: it answers
:meth:`~CounterfactualModule.counterfactual` ``(X, y_model, y_target, mask,
noise, sample, generator)`` and owns its noise width. The method bases
(:class:`ConditionalVAE`, :class:`PerturbationAutoencoder`) hold the method;
:mod:`.tabular`, :mod:`.image` and :mod:`.series` supply the bodies for
each kind of data.
"""

from ._base import (
    ConditionalVAE,
    CounterfactualModule,
    PerturbationAutoencoder,
    mixed_condition,
)
from ._layers import (
    ConvDecoder,
    ConvFeatures,
    NumericValues,
    ResidualLayer,
    SpanActivation,
    mlp,
)
from .image import (
    ConditionalBatchNorm2d,
    ImageCVAE,
    ImageDiscriminator,
    ImageGenerator,
    ImagePerturbationAE,
)
from .series import (
    SeriesConvDecoder,
    SeriesConvFeatures,
    SeriesCVAE,
    SeriesDiscriminator,
    SeriesGenerator,
    SeriesPerturbationAE,
)
from .tabular import (
    TabularCVAE,
    TabularDiscriminator,
    TabularGenerator,
    TabularPerturbationAE,
)

__all__ = [
    "ConditionalBatchNorm2d",
    "ConditionalVAE",
    "ConvDecoder",
    "ConvFeatures",
    "CounterfactualModule",
    "ImageCVAE",
    "ImageDiscriminator",
    "ImageGenerator",
    "ImagePerturbationAE",
    "NumericValues",
    "PerturbationAutoencoder",
    "ResidualLayer",
    "SeriesCVAE",
    "SeriesConvDecoder",
    "SeriesConvFeatures",
    "SeriesDiscriminator",
    "SeriesGenerator",
    "SeriesPerturbationAE",
    "SpanActivation",
    "TabularCVAE",
    "TabularDiscriminator",
    "TabularGenerator",
    "TabularPerturbationAE",
    "mixed_condition",
    "mlp",
]
