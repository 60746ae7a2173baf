"""Time series: the encoder, the constraints, how changes read, real data.

The contract every explainer keeps on series (format, determinism,
constraints, pickles, seeds) is in ``test_contract.py``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    PeakHeight,
    frame_proba,
    make_series,
    series_proba,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from cfexplain import (
    CfexplainWarning,
    ConstraintError,
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    InvalidDataError,
    LowValidityWarning,
    OutsideBoundsWarning,
    PredictorError,
    UnreachedTargetWarning,
    WeakGeneratorWarning,
)
from cfexplain.datasets import load_gunpoint
from cfexplain.modalities import SeriesAdapter
from cfexplain.preprocessing import SeriesEncoder, flatten_samples

# -- the encoder ---------------------------------------------------------------------


@settings(deadline=None, max_examples=30)
@given(
    series=arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 12)),
        elements=st.floats(-1e4, 1e4),
    )
)
def test_encoder_round_trips_and_standardises_per_channel(series):
    encoder = SeriesEncoder().fit(series)
    encoded = encoder.transform(series)
    n, channels, steps = series.shape
    assert encoded.shape == (n, channels * steps) and encoded.dtype == np.float32
    back = encoder.inverse_transform(encoded)
    assert back.shape == series.shape and back.dtype == series.dtype
    scale = np.maximum(series.std(axis=(0, 2)), 1.0)[None, :, None]
    np.testing.assert_allclose(back, series, atol=1e-5 * float(scale.max()) + 1e-3)
    per_channel = encoded.reshape(n, channels, steps).astype(np.float64)
    np.testing.assert_allclose(per_channel.mean(axis=(0, 2)), 0, atol=1e-3)


def test_encoder_rounds_integer_series():
    series = np.arange(60, dtype=np.int16).reshape(3, 2, 10)
    encoder = SeriesEncoder().fit(series)
    back = encoder.inverse_transform(encoder.transform(series) + 0.01)
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back, series)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((4, 10)), "n_cases, n_channels, n_timepoints"),
        (np.full((4, 1, 10), np.nan), "missing or infinite"),
        (np.array([[[1.0, 2.0]], [[1.0]]], dtype=object), "equal-length"),
        (np.zeros((0, 1, 10)), "0 series"),
        (np.full((3, 1, 5), "a"), "real-valued"),
    ],
)
def test_encoder_refuses_what_it_cannot_encode(bad, match):
    with pytest.raises(InvalidDataError, match=match):
        SeriesEncoder().fit(bad)


def test_ragged_nested_lists_are_refused():
    ragged = [[[1.0, 2.0, 3.0]], [[1.0, 2.0]]]
    with pytest.raises(InvalidDataError, match="equal-length|unequal"):
        CounterfactualAE(modality="series").fit(ragged, series_proba)


@pytest.mark.parametrize("channels", [1, 3])
def test_a_list_of_unequal_arrays_is_refused_at_fit(channels):
    # numpy cannot hold (3, 60) and (3, 59) arrays even as objects: fit
    # named numpy's broadcasting error instead of the unequal lengths.
    ragged = [np.zeros((channels, 60 - i % 2), np.float32) for i in range(6)]
    with pytest.raises(InvalidDataError, match="equal-length series"):
        CounterfactualAE(modality="series").fit(ragged, series_proba)


def test_a_nested_dataframe_is_named_for_what_it_is():
    nested = pd.DataFrame({"dim_0": [pd.Series(np.arange(5.0))] * 3})
    with pytest.raises(InvalidDataError, match="sktime's nested format"):
        SeriesEncoder().fit(nested)
    flat = pd.DataFrame(np.zeros((3, 5)))
    with pytest.raises(InvalidDataError, match=r"got a DataFrame of shape \(3, 5\)"):
        SeriesEncoder().fit(flat)


def test_a_two_dimensional_array_gets_both_possible_fixes():
    with pytest.raises(InvalidDataError) as error:
        SeriesEncoder().fit(np.zeros((3, 60)))
    assert r"X[:, None, :]" in str(error.value)
    assert "X[None]" in str(error.value)


@pytest.mark.parametrize(
    "shape, fix",
    [
        ((5, 1, 3, 20), "np.squeeze(X, axis=1)"),
        ((5, 1, 3, 1, 20), "np.squeeze(X, axis=(1, 3))"),
        ((20,), "X[None, None, :]"),
    ],
)
def test_arrays_of_other_ranks_get_a_fix_where_one_is_plain(shape, fix):
    with pytest.raises(InvalidDataError) as error:
        SeriesEncoder().fit(np.zeros(shape))
    assert fix in str(error.value)
    squeezed = eval(fix, {"np": np, "X": np.zeros(shape)})  # the fix works
    assert squeezed.ndim == 3


# -- constraints ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def adapter():
    series = make_series(n=20, channels=2, length=12)
    return SeriesAdapter().fit(series, SeriesEncoder().fit(series))


def test_windows_and_channels_make_one_mask(adapter):
    parsed = adapter.parse_constraints(
        {"channels": [1], "windows": [(2, 4), (10, 12)]}, None, None
    )
    expected = np.zeros((2, 12), dtype=bool)
    expected[1] = True
    expected[:, 2:4] = True
    expected[:, 10:12] = True
    np.testing.assert_array_equal(parsed.mask, expected)
    np.testing.assert_array_equal(parsed.frozen_features(), expected.reshape(-1))


@pytest.mark.parametrize(
    "immutable, bounds, monotonic, match",
    [
        (None, None, {0: "increasing"}, "monotonic constrains tabular"),
        ({"windows": [(5, 3)]}, None, None, "0 <= start < stop <= 12"),
        ({"windows": [(0, 13)]}, None, None, "0 <= start < stop <= 12"),
        ({"windows": [7]}, None, None, r"\(start, stop\) pairs"),
        ({"channels": [2]}, None, None, "not one of the 2 channels"),
        ({"steps": [1]}, None, None, "'channels' and 'windows'"),
        (np.ones((3, 12), dtype=bool), None, None, "does not fit series"),
        (np.ones((2, 12)), None, None, "boolean mask"),
        (None, {2: (0, 1)}, None, "channel 2; series have 2"),
        (None, {"heart": (0, 1)}, None, "channel 'heart'"),
        (None, {0: (1, 0)}, None, "low <= high"),
        (None, {0: 5}, None, "pair"),
        ({"channels": 1}, None, None, r"give \[1\] for one channel"),
        ({"windows": (2, 5)}, None, None, r"give \[\(2, 5\)\] for one window"),
        (None, [(0, 1), (0, 1)], None, r"dict\(enumerate\(pairs\)\)"),
    ],
)
def test_bad_series_constraints_are_named(adapter, immutable, bounds, monotonic, match):
    with pytest.raises(ConstraintError, match=match):
        adapter.parse_constraints(immutable, bounds, monotonic)


def test_frozen_values_outside_their_bounds_conflict():
    series = make_series(n=30)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series, series_proba
    )
    with pytest.raises(ConstraintError, match="channel 0 for .* series"):
        cf.transform(series, immutable={"windows": [(0, 8)]}, bounds={0: (-0.5, 0.5)})
    # Bounds alone always hold: the values are clipped into them, and the
    # series that needed it are counted.
    outside = (np.abs(series[:, 0]) > 0.5).any(axis=1).sum()
    with pytest.warns(
        OutsideBoundsWarning, match=f"{outside} of 30 .* channels \\[0\\]"
    ):
        X_cf = cf.transform(series, bounds={0: (-0.5, 0.5)})
    assert X_cf.min() >= -0.5 and X_cf.max() <= 0.5


@pytest.mark.parametrize(
    "shape, fix",
    [
        ((5, 2, 24), "pass the 1 channel"),
        ((5, 1, 20), "resample them to the fitted number of time points"),
        ((5, 24, 1), r"transpose\(0, 2, 1\)"),
    ],
)
def test_series_of_another_shape_name_what_differs(shape, fix):
    series = make_series(n=30)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series, series_proba
    )
    with pytest.raises(InvalidDataError, match=fix):
        cf.transform(np.zeros(shape, dtype=np.float32))


def test_unreached_targets_under_constraints_name_the_series_constraints():
    series = make_series(n=30)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series, series_proba
    )
    # Every time point but the last frozen: no series can move its peak.
    with pytest.warns(UnreachedTargetWarning) as caught:
        cf.transform(series, immutable={"windows": [(0, 23)]})
    message = next(
        str(w.message) for w in caught if issubclass(w.category, UnreachedTargetWarning)
    )
    assert "frozen windows or channels, bounds" in message
    assert "monotonic" not in message
    # Every time point frozen: nothing can change, said up front.
    with pytest.raises(ConstraintError, match="freeze every feature"):
        cf.transform(series, immutable={"channels": [0]})


# -- how changes read ----------------------------------------------------------------


def test_changes_read_as_windows():
    original = np.zeros((1, 1, 10))
    counterfactual = original.copy()
    counterfactual[0, 0, 2:5] = 1.5
    counterfactual[0, 0, 8] = -0.25
    (lines,) = SeriesAdapter.describe_changes(original, counterfactual)
    assert lines == [
        "steps 2-4 raised by 1.5 on average",
        "step 8 lowered by 0.25",
    ]
    two = np.concatenate([original, original], axis=1)
    two_cf = two.copy()
    two_cf[0, 1, :3] = 1.0
    assert SeriesAdapter.describe_changes(two, two_cf) == [
        ["channel 1: steps 0-2 raised by 1 on average"]
    ]
    two_cf[0, 1, 5:7] = [-1.0, 3.0]
    two_cf[0, 0, 9] = 0.5
    assert SeriesAdapter.describe_changes(two, two_cf) == [
        [
            "channel 0: step 9 raised by 0.5",
            "channel 1: steps 5-6 changed by 2 on average (up and down) and "
            "steps 0-2 raised by 1 on average",
        ]
    ]
    many = original.copy()
    many[0, 0, ::2] = 1.0  # five one-step windows: three described
    (lines,) = SeriesAdapter.describe_changes(original, many)
    assert len(lines) == 4 and lines[-1] == "2 smaller windows"
    assert SeriesAdapter.describe_changes(original, original) == [[]]


def test_explanations_plot_one_panel_per_series():
    import matplotlib

    matplotlib.use("Agg")
    series = make_series(n=40)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series, PeakHeight()
    )
    explanation = cf.explain(series[:3], n_counterfactuals=2)
    axes = explanation.plot()
    assert len(axes) == 3
    # The title names the prediction and the target it is sent to.
    predicted = explanation.predicted(explanation.y_original)[1]
    assert axes[1].get_title() == (
        f"original: predicted {predicted}, target {explanation.target[1]}"
    )


def test_multichannel_explanations_plot_one_panel_per_channel():
    # Channels on their own axes keep their own scales: one row per series,
    # one panel per channel, each with the original and both answers.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = make_series(n=40, channels=2)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series, PeakHeight()
    )
    explanation = cf.explain(series[:3], n_counterfactuals=2)
    axes = explanation.plot()
    assert axes.shape == (3, 2)
    assert axes[0, 1].get_title() == "channel 1"
    assert len(axes[2, 1].get_lines()) == 3  # the original and 2 answers
    np.testing.assert_allclose(
        axes[2, 1].get_lines()[0].get_ydata(), series[2, 1], rtol=1e-6
    )
    # Given axes take as many whole series as fit, row by row.
    _, four = plt.subplots(2, 2)
    assert explanation.plot(ax=four).shape == (2, 2)
    _, one = plt.subplots()
    with pytest.raises(ValueError, match="one series takes 2 axes"):
        explanation.plot(ax=one)
    plt.close("all")


# -- real data, every explainer, a black box -----------------------------------------


@pytest.fixture(scope="module")
def gunpoint():
    X, y = load_gunpoint(return_X_y=True)
    model = make_pipeline(
        FunctionTransformer(flatten_samples), LogisticRegression(max_iter=5000)
    ).fit(X[:150], y[:150])
    return X, model


def test_a_model_of_flattened_series_given_as_it_is_gets_a_hint(gunpoint):
    X, _ = gunpoint
    flat = flatten_samples(X[:150])
    labels = flat[:, 75] > np.median(flat[:, 75])
    flat_model = LogisticRegression().fit(flat, labels)
    with pytest.raises(PredictorError, match=r"shape \(8, 1, 150\).*flatten_samples"):
        CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
            X[:150], flat_model.predict_proba
        )


def test_a_model_failing_for_another_reason_gets_no_flattening_hint():
    def broken(X):
        return 1 / 0

    with pytest.raises(PredictorError, match="ZeroDivisionError") as error:
        CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
            make_series(n=20), broken
        )
    assert "flatten_samples" not in str(error.value)


def test_a_series_network_given_a_two_dimensional_array_is_told_about_modality():
    # modality="auto" reads (n, n_timepoints) as a table; a convolution
    # over (n, 1, n_timepoints) then fails on the shape of what it gets.
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Conv1d(1, 4, 5), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    series = make_series(n=20)
    network(torch.as_tensor(series))  # builds the lazy layer
    with pytest.raises(PredictorError, match=r"modality='series'.*X\[:, None, :\]"):
        CounterfactualAE(**FAST_AUTOENCODER).fit(series[:, 0], network)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CounterfactualGAN(**{**FAST, "max_epochs": 2}, modality="series"),
        lambda: CounterfactualAE(**FAST_AUTOENCODER, modality="series"),
        lambda: CounterfactualCVAE(**FAST_AUTOENCODER, modality="series"),
    ],
    ids=["gan", "ae", "cvae"],
)
def test_gunpoint_black_box_through_a_surrogate(gunpoint, make):
    X, model = gunpoint
    cf = make().fit(X[:150], model)
    assert cf.surrogate_ is not None and cf.n_features_in_ == 150
    X_cf = cf.transform(X[150:])
    assert X_cf.shape == (50, 1, 150) and X_cf.dtype == np.float32
    assert np.isfinite(X_cf).all()
    kept = cf.transform(X[150:160], immutable={"windows": [(0, 50)]})
    np.testing.assert_array_equal(kept[..., :50], X[150:160, :, :50])


def test_grid_search_tunes_a_series_explainer_with_the_scorers():
    from sklearn.model_selection import GridSearchCV

    from cfexplain import metrics

    search = GridSearchCV(
        CounterfactualAE(**FAST_AUTOENCODER, modality="series"),
        {"sparsity_weight": [1.0, 3.0]},
        scoring=metrics.counterfactual_scorers(["validity", "l0", "l1", "class_mmd2"]),
        refit="validity",
        cv=2,
    )
    search.fit(make_series(n=60), predict_fn=PeakHeight())
    for name in ("validity", "l0", "l1", "class_mmd2"):
        scores = search.cv_results_[f"mean_test_{name}"]
        assert scores.shape == (2,) and np.isfinite(scores).all()
    assert search.best_estimator_.modality_ == "series"
    # Series have no categories: the categorical count says so, not 0.
    with pytest.warns(CfexplainWarning, match="'l0' counts the values changed"):
        score = metrics.l0_categorical_scorer(search.best_estimator_, make_series(n=8))
    assert np.isnan(score)


def test_ae_mmd_weight_auto_is_three_on_series_and_one_on_tables(mixed_frame):
    series = CounterfactualAE(**FAST_AUTOENCODER, modality="series")
    series.fit(make_series(n=48), predict_fn=PeakHeight())
    assert series.mmd_weight_ == 3.0 and series.net_.mmd_weight == 3.0
    table = CounterfactualAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_proba)
    assert table.mmd_weight_ == 1.0 and table.net_.mmd_weight == 1.0
    given = CounterfactualAE(**FAST_AUTOENCODER, modality="series", mmd_weight=0.5)
    given.fit(make_series(n=48), predict_fn=PeakHeight())
    assert given.mmd_weight_ == 0.5 and given.net_.mmd_weight == 0.5


def test_gan_series_defaults_resolve_to_the_documented_values():
    series = CounterfactualGAN(**{**FAST, "max_epochs": 1}, modality="series")
    series.fit(make_series(n=48), predict_fn=PeakHeight())
    assert series.mmd_weight_ == 3.0 and series.net_.mmd_weight == 3.0
    assert series.sparsity_weight_ == 6.0 and series.net_.sparsity_weight == 6.0
    assert series.net_.module_.lstm.bidirectional
    # Paper 1's Adam 1e-3 for both nets (A.2), on the optimisers themselves.
    assert series.lr_generator_ == series.lr_discriminator_ == 1e-3
    assert series.net_.optimizer_.param_groups[0]["lr"] == 1e-3
    assert series.net_.optimizer_discriminator_.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize("bidirectional", [True, False])
def test_series_generator_reads_the_future_only_when_bidirectional(bidirectional):
    torch = pytest.importorskip("torch")
    from cfexplain.backends.modules import SeriesGenerator

    torch.manual_seed(0)
    generator = SeriesGenerator(
        None, 2, 3, (8,), (1, 10), bidirectional=bidirectional
    ).eval()
    X = torch.randn(4, 10)
    y = torch.eye(2)[[0, 1, 0, 1]]
    # The head starts at zero: the untrained generator returns its input.
    torch.testing.assert_close(generator(X, y, 1 - y), X)
    torch.nn.init.normal_(generator.head.weight)
    later = X.clone()
    later[:, -1] += 1.0
    with torch.no_grad():
        first_step = generator(X, y, 1 - y)[:, 0] - generator(later, y, 1 - y)[:, 0]
    # A forwards LSTM decides step 0 before it reads the last step.
    assert (first_step.abs() > 0).all() == bidirectional


def test_training_series_repair_copies_one_window_of_a_target_series():
    # Without its prediction loss the generator reconstructs its input, so
    # every target is reached by the repair that copies a window of the
    # nearest training series the model puts in the target class.
    X = make_series(n=96, length=24)
    explainer = CounterfactualAE(
        **FAST_AUTOENCODER, modality="series", prediction_weight=0.0
    )
    # The self-check sees the repairs do all the work, and says so.
    with pytest.warns(WeakGeneratorWarning, match="the generator alone reached"):
        explainer.fit(X[:64], predict_fn=series_proba)
    # A LowValidityWarning still, for filters written for that class.
    assert issubclass(WeakGeneratorWarning, LowValidityWarning)
    queries = X[64:]
    with pytest.warns(UnreachedTargetWarning):
        unrepaired = explainer.set_params(max_rounds=1).transform(queries)
    assert (
        series_proba(unrepaired).argmax(1) != series_proba(queries).argmax(1)
    ).mean() < 0.5
    explainer.set_params(max_rounds=2)
    X_cf = explainer.transform(queries)
    flipped = series_proba(X_cf).argmax(1) != series_proba(queries).argmax(1)
    assert flipped.all()
    training = X[:64, 0]
    for original, cf in zip(queries[:, 0], X_cf[:, 0], strict=True):
        changed = np.flatnonzero(cf != original)
        # One window of a training series' values (to float32 precision);
        # inside it, values that moved by less than numeric_tolerance are
        # given back the original's, and outside it every value is the
        # original's exactly.
        span = np.arange(changed.min(), changed.max() + 1)
        source = np.abs(training[:, span] - cf[span]) < 1e-4
        kept = cf[span] == original[span]
        assert (source | kept).all(axis=1).any()
    frozen = explainer.transform(queries, immutable={"windows": [(0, 8)]})
    np.testing.assert_array_equal(frozen[..., :8], queries[..., :8])


def test_series_take_a_training_series_window_when_it_costs_less():
    X = make_series(n=96, length=24)
    explainer = CounterfactualAE(**FAST_AUTOENCODER, modality="series")
    explainer.fit(X[:64], predict_fn=series_proba)
    queries = X[64:]
    default = explainer.transform(queries)
    compared = explainer.set_params(training_row_candidates=True).transform(queries)
    assert compared.shape == queries.shape and compared.dtype == queries.dtype
    batch = explainer._batch(queries, None, (None, None, None))
    rows = np.arange(len(queries))
    costs = [
        explainer._answer_costs(batch, rows, answer, series_proba(answer))[1]
        for answer in (default, compared)
    ]
    assert (costs[1] <= costs[0] + 1e-9).all()


def test_a_channel_constant_in_training_stays_as_it_was():
    # The CVAE reconstructs: without the rule its error moved the channel.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 2, 16)).astype(np.float32)
    X[:, 1] = 5.0
    cf = CounterfactualCVAE(**FAST_AUTOENCODER, modality="series").fit(
        X, _late_mean_positive
    )
    assert cf.encoder_.constant_channels_.tolist() == [False, True]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_cf = cf.transform(X[:8])
    np.testing.assert_array_equal(X_cf[:, 1], X[:8, 1])


def _late_mean_positive(X):
    positive = np.asarray(X)[:, 0, 8:].mean(axis=1) > 0
    return np.column_stack([~positive, positive]).astype(float)


def test_a_ragged_list_with_modality_auto_names_the_unequal_lengths():
    ragged = [np.zeros((3, 60 - i % 2), np.float32) for i in range(6)]
    with pytest.raises(InvalidDataError, match="equal-length series"):
        CounterfactualAE().fit(ragged, series_proba)


def test_a_dataframe_given_as_series_at_fit_gets_the_series_messages():
    nested = pd.DataFrame({"dim_0": [pd.Series(np.arange(5.0))] * 4})
    with pytest.raises(InvalidDataError, match="sktime's nested format"):
        CounterfactualAE(modality="series").fit(nested, series_proba)
    with pytest.raises(InvalidDataError, match=r"X.to_numpy\(\)\[:, None, :\]"):
        CounterfactualAE(modality="series").fit(
            pd.DataFrame(np.zeros((4, 5))), series_proba
        )


def _tenths_proba(series):
    return series_proba(np.asarray(series, dtype=np.float32) / 10)


def test_series_fitted_as_integers_explain_float_series():
    # The answers take numpy's common dtype of the fitted and the given
    # series: float64 here, holding the whole numbers the fit's dtype rounds to.
    X = np.rint(make_series(n=96, length=24) * 10).astype(np.int64)
    explainer = CounterfactualAE(**FAST_AUTOENCODER, modality="series")
    explainer.fit(X[:64], predict_fn=_tenths_proba)
    X_cf = explainer.transform(X[64:].astype(np.float64))
    assert X_cf.dtype == np.float64 and X_cf.shape == (32, 1, 24)
    np.testing.assert_array_equal(X_cf, np.rint(X_cf))
    assert explainer.transform(X[64:]).dtype == np.int64


@pytest.mark.parametrize(
    "bounds, low, high",
    [((-20, 20), -20, 20), ((-19.5, 19.5), -19, 19), ((-20, None), -20, None)],
)
def test_integer_series_are_bounded_to_whole_numbers(bounds, low, high):
    X = np.rint(make_series(n=96, length=24) * 10).astype(np.int64)
    explainer = CounterfactualAE(
        **FAST_AUTOENCODER, modality="series", bounds={0: bounds}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutsideBoundsWarning)
        explainer.fit(X[:64], predict_fn=_tenths_proba)  # the self-check clips too
        X_cf = explainer.transform(X[64:])
    assert X_cf.dtype == np.int64
    assert X_cf.min() >= low and (high is None or X_cf.max() <= high)
    with pytest.raises(ConstraintError, match="hold no whole number"):
        explainer.transform(X[64:], bounds={0: (0.2, 0.8)})


def test_float32_answers_stay_inside_bounds_float32_cannot_hold():
    X = make_series(n=64)  # float32
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(X, series_proba)
    high = 0.1  # np.float32(0.1) is above 0.1
    assert float(np.float32(high)) > high
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_cf = cf.transform(X[:16], bounds={0: (-10.0, high)})
    assert X_cf.dtype == np.float32 and float(X_cf.max()) <= high


def test_float64_series_keep_their_frozen_values_exactly():
    X = make_series(n=64)  # fitted on float32
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(X, series_proba)
    X64 = X[:16].astype(np.float64) + 1e-9  # values float32 cannot hold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_cf = cf.transform(X64, immutable={"windows": [(0, 8)]})
    assert X_cf.dtype == np.float64
    np.testing.assert_array_equal(X_cf[..., :8], X64[..., :8])


class DoublePeakHeight(torch.nn.Module):
    """PeakHeight with a float64 linear read-out: refuses float32 tensors."""

    def __init__(self):
        super().__init__()
        self.read_out = torch.nn.Linear(1, 2).double()
        with torch.no_grad():
            self.read_out.weight.copy_(torch.tensor([[-4.0], [4.0]]))
            self.read_out.bias.copy_(torch.tensor([6.0, -6.0]))

    def forward(self, X):
        peak = torch.logsumexp(8.0 * X[:, 0], dim=1, keepdim=True) / 8.0
        return self.read_out(peak)


def test_a_float64_torch_module_is_called_and_differentiated_in_float64():
    X = make_series(n=64).astype(np.float64)
    model = DoublePeakHeight()
    with pytest.raises(RuntimeError):  # what the explainer must avoid
        model(torch.as_tensor(X, dtype=torch.float32))
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(X, model)
    assert cf.surrogate_ is None  # its own gradients, no surrogate
    with torch.no_grad():
        expected = torch.softmax(model(torch.as_tensor(X)), dim=1).numpy()
    np.testing.assert_allclose(cf.predictor_.predict(X), expected, rtol=1e-12)
    X_cf = cf.transform(X[:16])
    assert X_cf.dtype == np.float64 and np.isfinite(X_cf).all()


def _rising_sum(X):
    """A linear regression model: the sum of a series' first six values."""
    return np.asarray(X, dtype=np.float64)[:, 0, :6].sum(axis=1)


def test_a_value_between_the_training_outputs_is_reached_on_the_line_to_one_beyond():
    # Amplitudes 1 and 2 leave a gap in the model's values on the training
    # series: no training series meets a target in it, so the window path
    # has none to copy; the blend towards one across the target does.
    X = make_series(n=96)
    values = _rising_sum(X)
    middle = float((values.min() + values.max()) / 2)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(X, _rising_sum)
    tolerance = cf.regression_tolerance * cf.output_scale_
    assert not (np.abs(values - middle) <= tolerance).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreachedTargetWarning)
        X_cf = cf.transform(X[:16], target=middle)
        frozen = cf.transform(X[:16], target=middle, immutable={"windows": [(0, 2)]})
    assert (np.abs(_rising_sum(X_cf) - middle) <= tolerance).all()
    assert (np.abs(_rising_sum(frozen) - middle) <= tolerance).all()
    np.testing.assert_array_equal(frozen[..., :2], X[:16, :, :2])
