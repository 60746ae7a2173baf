"""CounterfactualCVAE (both modes) and CounterfactualAE on tables and images."""

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST_AUTOENCODER,
    HalfBrightness,
    frame_proba,
    frame_proba_3,
    frame_value,
    image_proba,
    make_images,
)

from cfexplain import CounterfactualAE, CounterfactualCVAE
from cfexplain.exceptions import InvalidDataError, PredictorError

# The CVAEs are guided by the model here, so the shared tests cover the
# surrogate path too; test_prediction_weight_auto covers the default.
MAKERS = {
    "cvae_enc_dec": lambda **kw: CounterfactualCVAE(
        mode="enc-dec", prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
    "cvae_cond_mix": lambda **kw: CounterfactualCVAE(
        mode="cond-mix", prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def fitted(kind, mixed_frame):
    return MAKERS[kind]().fit(mixed_frame, predict_fn=frame_proba)


@pytest.fixture(scope="module")
def images():
    return make_images()


@pytest.fixture(scope="module")
def fitted_images(kind, images):
    return MAKERS[kind](max_epochs=3, modality="image").fit(
        images, predict_fn=HalfBrightness()
    )


# -- tables ----------------------------------------------------------------------


def test_multiclass_target_label(kind, mixed_frame):
    cf = MAKERS[kind]().fit(mixed_frame, frame_proba_3)
    X_cf = cf.transform(mixed_frame.iloc[:20], target=2)
    assert X_cf.shape == (20, mixed_frame.shape[1])
    exp = cf.explain(mixed_frame.iloc[:3], target=2)
    assert list(exp.target) == [2, 2, 2]


def test_history_records_losses(fitted):
    names = set(fitted.net_.history[-1]["batches"][-1])
    if isinstance(fitted, CounterfactualAE):
        assert {"prediction_loss", "sparsity_loss", "mmd_loss"} <= names
    else:
        assert {"reconstruction_loss", "kl_loss", "prediction_loss"} <= names
    assert len(fitted.net_.history) == FAST_AUTOENCODER["max_epochs"]


def test_black_box_gets_a_refreshed_surrogate(fitted):
    assert fitted.surrogate_ is not None
    assert "surrogate_cf_agreement" in fitted.net_.history[-1]


# -- images ----------------------------------------------------------------------


def test_three_d_images_with_modality_image(fitted_images, images):
    X_cf = fitted_images.transform(images[:20])
    assert X_cf.shape == (20, 8, 8) and X_cf.dtype == np.uint8
    assert fitted_images.modality_ == "image"
    assert fitted_images.n_features_in_ == 64


def test_torch_image_model_gives_gradients_directly(fitted_images):
    assert fitted_images.surrogate_ is None


def test_float_images_with_channels(kind):
    images = make_images(64, channels=1).astype(np.float32) / 255
    cf = MAKERS[kind]().fit(images, predict_fn=HalfBrightness(scale=255.0))
    X_cf = cf.transform(images[:5])
    assert X_cf.shape == (5, 1, 8, 8) and X_cf.dtype == np.float32
    assert X_cf.min() >= 0.0 and X_cf.max() <= 1.0


def test_black_box_on_images_uses_a_surrogate(kind, images):
    cf = MAKERS[kind](modality="image").fit(images, predict_fn=image_proba)
    assert cf.surrogate_ is not None
    assert cf.transform(images[:3]).shape == (3, 8, 8)


def test_image_errors(fitted_images, images):
    with pytest.raises(InvalidDataError, match="shape"):
        fitted_images.transform(images[:, :7, :7])
    with pytest.raises(InvalidDataError, match="fitted on uint8"):
        fitted_images.transform(images[:3].astype(np.float32))
    with pytest.raises(InvalidDataError, match="images"):
        MAKERS["ae"](modality="image").fit(images.reshape(len(images), -1), image_proba)
    with pytest.raises(ValueError, match="only immutable"):
        fitted_images.transform(images[:3], bounds={0: (0, 1)})
    with pytest.raises(ValueError, match="does not fit"):
        fitted_images.transform(images[:3], immutable=np.ones((3, 3), dtype=bool))


def test_image_explanation(fitted_images, images):
    exp = fitted_images.explain(images[:3], n_counterfactuals=2)
    assert exp.counterfactuals.shape == (6, 8, 8)
    np.testing.assert_array_equal(
        exp.counterfactuals[::2], fitted_images.transform(images[:3])
    )
    frame = exp.to_frame()
    assert list(frame.columns) == [
        "prediction",
        "original_prediction",
        "target",
        "valid",
        "changes",
    ]
    assert len(frame) == 6
    for row in exp.changes:
        for changes in row:
            assert all("pixel values changed" in change for change in changes)
    assert "row 0" in str(exp)


def test_image_explanation_plot(fitted_images, images):
    import matplotlib

    matplotlib.use("Agg")
    exp = fitted_images.explain(images[:3], n_counterfactuals=2)
    axes = exp.plot()
    assert axes.shape == (3, 3)
    # The original's title names the prediction and the target it is sent to.
    assert axes[0, 0].get_title() == (
        f"original: {exp.predicted(exp.y_original)[0]}\ntarget: {exp.target[0]}"
    )


def test_table_explanation_plot(fitted, mixed_frame):
    import matplotlib

    matplotlib.use("Agg")
    ax = fitted.explain(mixed_frame.iloc[:5], n_counterfactuals=2).plot()
    labels = {tick.get_text() for tick in ax.get_yticklabels()}
    assert labels == set(mixed_frame.columns)


def test_long_feature_names_stay_inside_the_table_plot():
    from types import SimpleNamespace

    import matplotlib

    from cfexplain.modalities.tabular import TabularAdapter

    matplotlib.use("Agg")
    name = "months since the applicant's first account was opened"
    original = pd.DataFrame({name: [1.0, 2.0], "b": [0.0, 1.0]})
    counterfactuals = original.copy()
    counterfactuals.iloc[0, 0] = 5.0
    explanation = SimpleNamespace(
        n_counterfactuals=1,
        original=original,
        counterfactuals=counterfactuals,
        valid=np.array([True, True]),
    )
    ax = TabularAdapter.plot(explanation)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    left = min(t.get_window_extent(renderer).x0 for t in ax.get_yticklabels())
    matplotlib.pyplot.close(ax.figure)
    assert left >= 0


def test_numeric_tolerance_on_images(kind, images):
    loose = MAKERS[kind](numeric_tolerance=1.0, modality="image")
    loose.fit(images, HalfBrightness())
    np.testing.assert_array_equal(loose.transform(images[:5]), images[:5])


# -- learning ----------------------------------------------------------------------


@pytest.mark.parametrize("estimator", [CounterfactualAE, CounterfactualCVAE])
def test_learns_to_flip_images(estimator, images):
    # The CVAE is guided by the model on images by default.
    cf = estimator(
        max_epochs=40, batch_size=32, latent_dim=8, random_state=0, modality="image"
    ).fit(images, HalfBrightness())
    X_cf = cf.transform(images)
    flipped = image_proba(X_cf).argmax(1) != image_proba(images).argmax(1)
    assert flipped.mean() > 0.9


# -- CVAE specifics ----------------------------------------------------------------


def test_cvae_refuses_regression(mixed_frame):
    with pytest.raises(PredictorError, match="classifiers only"):
        CounterfactualCVAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_value)


def test_cvae_conditions_on_labels(mixed_frame):
    labels = frame_proba(mixed_frame).argmax(axis=1)
    cf = CounterfactualCVAE(condition_on="label", **FAST_AUTOENCODER)
    cf.fit(mixed_frame, labels, predict_fn=frame_proba)
    assert cf.transform(mixed_frame.iloc[:5]).shape == (5, 4)
    with pytest.raises(InvalidDataError, match="needs the labels"):
        CounterfactualCVAE(condition_on="label", **FAST_AUTOENCODER).fit(
            mixed_frame, predict_fn=frame_proba
        )
    with pytest.raises(InvalidDataError, match="not among the model's classes"):
        CounterfactualCVAE(condition_on="label", **FAST_AUTOENCODER).fit(
            mixed_frame, labels + 5, predict_fn=frame_proba
        )


def test_pure_cvae_needs_no_model_gradients(mixed_frame):
    cf = CounterfactualCVAE(prediction_weight=0.0, **FAST_AUTOENCODER)
    cf.fit(mixed_frame, frame_proba)
    assert cf.surrogate_ is None
    assert "prediction_loss" not in cf.net_.history[-1]["batches"][-1]
    assert cf.transform(mixed_frame.iloc[:5]).shape == (5, 4)


def test_prediction_weight_auto(mixed_frame, images):
    tables = CounterfactualCVAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_proba)
    assert tables.prediction_weight_ == 0.0 and tables.surrogate_ is None
    pictures = CounterfactualCVAE(modality="image", **FAST_AUTOENCODER)
    pictures.fit(images, image_proba)
    assert pictures.prediction_weight_ == 1.0 and pictures.surrogate_ is not None


def test_ranking_score(mixed_frame):
    cf = CounterfactualCVAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:10]
    X_cf = cf.transform(X)
    scores = cf.ranking_score(X, X_cf)
    assert scores.shape == (10,) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    # One score per row, whatever the batch.
    np.testing.assert_allclose(
        cf.ranking_score(X.iloc[[7, 2]], X_cf.iloc[[7, 2]]), scores[[7, 2]], rtol=1e-5
    )
    # The target enters the metric: the same pairs score differently when
    # the counterfactual is meant for the other class.
    labels = cf.classes_[frame_proba(X).argmax(axis=1)]
    assert not np.allclose(cf.ranking_score(X, X_cf, target=labels), scores)
    with pytest.raises(InvalidDataError, match="rows"):
        cf.ranking_score(X, X.iloc[:3])


def test_transform_takes_the_best_ranked_valid_candidate(mixed_frame):
    cf = CounterfactualCVAE(n_candidates=4, **FAST_AUTOENCODER)
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:40]
    chosen = cf.transform(X)
    valid = frame_proba(chosen).argmax(1) != frame_proba(X).argmax(1)
    single = CounterfactualCVAE(n_candidates=1, **FAST_AUTOENCODER)
    single.fit(mixed_frame, frame_proba)
    valid_single = frame_proba(single.transform(X)).argmax(1) != frame_proba(X).argmax(
        1
    )
    # The first candidate is the posterior mean, the one n_candidates=1 gives.
    assert valid.mean() >= valid_single.mean()


@pytest.mark.parametrize(("mode", "resolved"), [("enc-dec", 2), ("cond-mix", 1)])
def test_n_candidates_auto_depends_on_the_mode(mixed_frame, mode, resolved):
    cf = CounterfactualCVAE(
        mode=mode, max_rounds=0, training_row_candidates=False, **FAST_AUTOENCODER
    )
    assert cf.get_params()["n_candidates"] == "auto"
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:40]
    auto = cf.transform(X)
    # The same fitted CVAE answers as with the count "auto" stands for, and
    # differently from another count: the setting reaches the engine.
    pd.testing.assert_frame_equal(
        auto, cf.set_params(n_candidates=resolved).transform(X)
    )
    other = cf.set_params(n_candidates=8).transform(X)
    assert not auto.equals(other)


def test_n_candidates_auto_on_images(fitted_images, kind):
    if kind == "ae":
        pytest.skip("the AE has no candidates to rank")
    expected = {"cvae_enc_dec": 2, "cvae_cond_mix": 8}[kind]
    assert fitted_images._resolved_n_candidates() == expected


def test_cvae_explain_returns_the_k_best_candidates(mixed_frame):
    cf = CounterfactualCVAE(n_candidates=4, **FAST_AUTOENCODER)
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:12]
    exp = cf.explain(X, n_counterfactuals=6)
    first = exp.counterfactuals.xs(0, level="counterfactual")
    pd.testing.assert_frame_equal(first, cf.transform(X), check_names=False)
    # After transform's answer, valid candidates come first in every row.
    for row in exp.valid:
        assert list(row[1:]) == sorted(row[1:], reverse=True)
    assert exp.valid.shape == (12, 6)


# -- AE specifics ------------------------------------------------------------------


def test_ae_regression_interval(mixed_frame):
    cf = CounterfactualAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_value)
    X_cf = cf.transform(mixed_frame.iloc[:10], target=(100.0, 120.0))
    assert X_cf.shape == (10, 4)
    # The explanation's table holds one (low, high) interval per row.
    for target in ((100.0, 120.0), 110.0):
        exp = cf.explain(mixed_frame.iloc[:3], target=target, n_counterfactuals=2)
        targets = exp.to_frame()["target"]
        assert len(targets) == 6 and all(len(t) == 2 for t in targets)
        assert all(type(bound) is float for t in targets for bound in t)
    assert targets.iloc[0][0] < 110.0 < targets.iloc[0][1]
