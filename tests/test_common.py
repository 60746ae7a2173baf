"""scikit-learn's estimator checks on every public explainer."""

import pytest
from cf_testing import array_proba
from sklearn.utils.estimator_checks import parametrize_with_checks

from cfexplain import CounterfactualGAN

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

#: Checks that cannot pass for a counterfactual explainer, with the reason.
EXPECTED_FAILED_CHECKS = {}


@pytest.mark.filterwarnings("ignore:the model predicts a single class")
@parametrize_with_checks(
    [CounterfactualGAN(predictor=array_proba, **TINY)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_explainer(estimator, check):
    check(estimator)
