"""scikit-learn's estimator checks on every public explainer."""

import pytest
from cf_testing import NamedModel, array_proba, expected_failed_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN

TINY = {
    "max_epochs": 1,
    "batch_size": 32,
    "generator_hidden": (8,),
    "discriminator_hidden": (8,),
    "surrogate_hidden": (8,),
    "surrogate_epochs": 1,
    "surrogate_refresh_rows": 16,
    "noise_dim": 2,
    "random_state": 0,
}

TINY_AUTOENCODER = {
    "max_epochs": 1,
    "batch_size": 32,
    "hidden_sizes": (8,),
    "latent_dim": 2,
    "surrogate_hidden": (8,),
    "surrogate_epochs": 1,
    "surrogate_refresh_rows": 16,
    "random_state": 0,
}

#: The model, with a repr that is the same in every test process.
MODEL = NamedModel(array_proba)


@pytest.mark.filterwarnings("ignore:the model predicts a single class")
@parametrize_with_checks(
    [
        CounterfactualGAN(predictor=MODEL, **TINY),
        CounterfactualCVAE(predictor=MODEL, mode="enc-dec", **TINY_AUTOENCODER),
        CounterfactualCVAE(predictor=MODEL, mode="cond-mix", **TINY_AUTOENCODER),
        CounterfactualAE(predictor=MODEL, **TINY_AUTOENCODER),
    ],
    # Every check passes; some scikit-learn releases get one wrong.
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_explainer(estimator, check):
    check(estimator)
