"""The input convention, the modality adapters and the candidate engine."""

import warnings
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
import torch
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    HalfBrightness,
    PeakHeight,
    frame_proba,
    image_proba,
    make_images,
    make_mixed_frame,
    make_series,
)

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN
from cfexplain.exceptions import InvalidDataError, UnreachedTargetWarning
from cfexplain.modalities import ADAPTERS, ModalityAdapter, resolve_modality
from cfexplain.modalities.tabular import TabularAdapter

EXPLAINERS = [
    lambda **kw: CounterfactualGAN(**FAST, **kw),
    lambda **kw: CounterfactualCVAE(**FAST_AUTOENCODER, **kw),
    lambda **kw: CounterfactualAE(**FAST_AUTOENCODER, **kw),
]


@pytest.mark.parametrize("make", EXPLAINERS)
def test_three_d_array_without_modality_names_both_readings(make):
    series = np.zeros((20, 140, 1), dtype=np.float32)
    with pytest.raises(InvalidDataError) as info:
        make().fit(series, image_proba)
    message = str(info.value)
    assert "time series" in message and "images" in message
    assert "modality='series'" in message and "modality='image'" in message
    assert "255" not in message  # no image advice for what may be a series


@pytest.mark.parametrize("make", EXPLAINERS)
def test_series_with_a_torch_model_are_differentiated_directly(make):
    series = make_series(n=40, channels=2, length=20)
    cf = make(modality="series").fit(series, PeakHeight())
    assert cf.surrogate_ is None and cf.modality_ == "series"
    assert cf.n_features_in_ == 40
    X_cf = cf.transform(series[:5])
    assert X_cf.shape == (5, 2, 20) and X_cf.dtype == np.float32
    with pytest.raises(InvalidDataError, match=r"fitted on \(2, 20\)"):
        cf.transform(series[:, :, :10])


def test_series_input_is_checked_first():
    bad = np.full((5, 1, 10), np.nan)
    with pytest.raises(InvalidDataError, match="missing or infinite"):
        CounterfactualAE(modality="series").fit(bad, image_proba)
    with pytest.raises(InvalidDataError, match="n_cases, n_channels, n_timepoints"):
        CounterfactualAE(modality="series").fit(np.zeros((5, 10)), image_proba)


def test_an_explainer_names_the_modalities_it_supports():
    # Every explainer takes every modality today; one that does not says so.
    class TablesOnly(CounterfactualGAN):
        _modalities = ("tabular",)

    with pytest.raises(InvalidDataError, match="does not support modality 'image'"):
        TablesOnly(**FAST).fit(make_images(channels=1), HalfBrightness())


@pytest.mark.parametrize(
    "X, modality, match",
    [
        (make_mixed_frame(), "image", "got a DataFrame"),
        (np.zeros((4, 3)), "image", "got 2 dimensions"),
        (np.zeros((4, 1, 3, 3)), "tabular", "got 4 dimensions"),
        (np.zeros((4, 1, 3, 3, 2)), "auto", "5 dimensions"),
    ],
)
def test_modality_and_shape_must_agree(X, modality, match):
    with pytest.raises(InvalidDataError, match=match):
        resolve_modality(
            X, modality, supported=("tabular", "image"), estimator_name="X"
        )


def test_auto_reads_tables_and_four_d_images():
    supported = ("tabular", "image")
    for X, expected in [
        (make_mixed_frame(), "tabular"),
        (np.zeros((4, 3)), "tabular"),
        (np.zeros((4, 1, 3, 3)), "image"),
    ]:
        assert resolve_modality(X, "auto", supported=supported, estimator_name="X") == (
            expected
        )


def test_every_adapter_implements_the_protocol():
    # The hooks an estimator calls on a fitted adapter.
    hooks = [
        "check_input",
        "make_encoder",
        "fit",
        "decode",
        "parse_constraints",
        "revert_negligible_changes",
        "keep_unmoved_values",
        "changed_features",
        "describe_changes",
        "plot",
    ]
    for name in ("tabular", "image", "series"):
        adapter = ADAPTERS[name]
        for hook in hooks:
            assert getattr(adapter, hook) is not getattr(ModalityAdapter, hook), (
                name,
                hook,
            )


def _count_model_calls(explainer):
    calls = []

    def counting(X):
        calls.append(len(X))
        return frame_proba(X)

    explainer.predictor_.predict_fn = counting
    return calls


def test_candidates_are_decoded_and_scored_in_one_batch(mixed_frame):
    cf = CounterfactualCVAE(
        n_candidates=8, max_rounds=0, training_row_candidates=False, **FAST_AUTOENCODER
    )
    cf.fit(mixed_frame, frame_proba)
    calls = _count_model_calls(cf)
    with patch.object(
        cf.encoder_, "inverse_transform", wraps=cf.encoder_.inverse_transform
    ) as decode:
        exp = cf.explain(mixed_frame.iloc[:30], n_counterfactuals=3)
    # One call on the originals, one on all 8 x 30 candidates.
    assert calls == [30, 240]
    assert decode.call_count == 1
    assert exp.valid.shape == (30, 3)


def test_transform_scores_the_cheapest_candidates_first(mixed_frame):
    cf = CounterfactualCVAE(
        n_candidates=8, max_rounds=0, training_row_candidates=False, **FAST_AUTOENCODER
    )
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:30]
    calls = _count_model_calls(cf)
    X_cf = cf.transform(X)
    # The originals, every row's cheapest candidate, then rounds of the next
    # 2, 4 and 1 candidates of the rows still without a valid one.
    assert calls[:2] == [30, 30] and len(calls) <= 5
    for size, width in zip(calls[2:], (2, 4, 1), strict=False):
        assert size % width == 0 and size <= 30 * width
    # Same answer as scoring every candidate (explain's first column).
    first = cf.explain(X, n_counterfactuals=2).counterfactuals.xs(
        0, level="counterfactual"
    )
    pd.testing.assert_frame_equal(first, X_cf, check_names=False)


def test_single_candidate_transform_without_repairs_calls_the_model_once_on_answers(
    mixed_frame,
):
    cf = CounterfactualGAN(max_rounds=0, training_row_candidates=False, **FAST)
    cf.fit(mixed_frame, frame_proba)
    calls = _count_model_calls(cf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachedTargetWarning)
        cf.transform(mixed_frame.iloc[:30])
    # The originals (for "opposite"), then the answers, to report misses.
    assert calls == [30, 30]


def test_explain_samples_are_reproducible_and_differ_from_transform(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:20]
    a = cf.explain(X, n_counterfactuals=4).counterfactuals
    b = cf.explain(X, n_counterfactuals=4).counterfactuals
    pd.testing.assert_frame_equal(a, b)
    assert a.index.get_level_values("counterfactual").tolist() == [0, 1, 2, 3] * 20


def test_gan_cycle_loss_is_trained_and_recorded(mixed_frame):
    plain = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    cycled = CounterfactualGAN(cycle_weight=2.0, **FAST).fit(mixed_frame, frame_proba)
    batch = cycled.net_.history[-1]["batches"][-1]
    assert np.isfinite(batch["cycle_loss"]) and batch["cycle_loss"] >= 0
    assert "cycle_loss" not in plain.net_.history[-1]["batches"][-1]
    # The extra term changes what the generator learns.
    head, cycled_head = plain.net_.module_.head, cycled.net_.module_.head
    assert not torch.equal(head.weight, cycled_head.weight)


def test_cycle_loss_is_zero_for_a_generator_that_changes_nothing(mixed_frame):
    from cfexplain.backends.nets import GeneratorBatch, cycle_consistency_loss

    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    net = cf.net_
    Xt = cf.encoder_.transform(mixed_frame.iloc[:16])
    X = torch.as_tensor(Xt, device=net.device)
    condition = cf._condition(frame_proba(mixed_frame.iloc[:16]))
    cond = torch.as_tensor(condition, device=net.device)
    mask = torch.ones_like(X)  # every column frozen: G returns its input
    noise = torch.zeros(len(X), net.module_.noise_width, device=net.device)
    batch = GeneratorBatch(X, cond, cond, mask, noise, X)
    assert cycle_consistency_loss(net, batch).item() == pytest.approx(0.0)


def test_cycle_loss_reuses_the_prediction_loss_output(mixed_frame):
    # The step hands the cycle loss the model's output it computed for the
    # prediction loss; the loss must equal the one that calls the model again
    # and must not send gradients into that output.
    from cfexplain.backends.nets import GeneratorBatch, cycle_consistency_loss

    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    net = cf.net_
    X = torch.as_tensor(cf.encoder_.transform(mixed_frame.iloc[:16]), device=net.device)
    cond = torch.as_tensor(
        cf._condition(frame_proba(mixed_frame.iloc[:16])), device=net.device
    )
    target = cond.flip(1)
    noise = torch.zeros(len(X), net.module_.noise_width, device=net.device)
    generated = net.module_(X, cond, target, None, noise).detach()
    # The cycle loss samples categories with the net's generator: both calls
    # start from the same state.
    state = net.sampling_generator_.get_state()

    def loss_and_gradient(reuse):
        net.sampling_generator_.set_state(state)
        X_cf = generated.clone().requires_grad_(True)
        output = net.model_output(X_cf) if reuse else None
        batch = GeneratorBatch(X, cond, target, None, noise, X_cf, None, output)
        loss = cycle_consistency_loss(net, batch)
        loss.backward()
        return loss.item(), X_cf.grad

    again, gradient_again = loss_and_gradient(reuse=False)
    reused, gradient_reused = loss_and_gradient(reuse=True)
    assert reused == pytest.approx(again, rel=1e-6)
    # Gradients reach the counterfactuals through the generator only, as
    # when the model's output is computed without them.
    torch.testing.assert_close(gradient_reused, gradient_again)


def test_mixed_rows_copy_exact_values_in_the_originals_dtypes():
    # A training-row path's candidates: each flagged feature the donor's
    # value to the last bit, the rest the original's, the originals' index
    # (duplicate labels too) and dtypes; a category column widens to a
    # donor's category it lacks rather than losing it.
    originals = pd.DataFrame(
        {
            "x": [0.1234567891, 2.5, -1.0],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "s": ["a", "b", "c"],
            "k": pd.Categorical(["p", "q", "p"], categories=["p", "q"]),
            "f": [True, False, True],
        },
        index=[7, 7, 3],
    )
    donors = pd.DataFrame(
        {
            "x": [9.87654321012345, 0.3, 1e-9],
            "n": np.array([10, 20, 30], dtype=np.int64),
            "s": ["u", "v", "w"],
            "k": ["r", "q", "q"],
            "f": [False, True, False],
        },
        index=[0, 1, 2],
    )
    take = np.array(
        [
            [True, False, True, True, False],
            [False, True, False, False, True],
            [True, True, True, False, False],
        ]
    )
    mixed = TabularAdapter.mix_rows(originals, donors, take)
    assert list(mixed.index) == [7, 7, 3]
    assert list(mixed.columns) == list(originals.columns)
    assert mixed["x"].tolist() == [9.87654321012345, 2.5, 1e-9]
    assert mixed["n"].tolist() == [1, 20, 30]
    assert mixed["s"].tolist() == ["u", "b", "w"]
    assert mixed["k"].tolist() == ["r", "q", "p"]
    assert mixed["f"].tolist() == [True, True, True]
    for name in ["x", "n", "s", "f"]:
        assert mixed[name].dtype == originals[name].dtype, name
    assert list(mixed["k"].cat.categories) == ["p", "q", "r"]
    # Nothing flagged: the originals as they are.
    same = TabularAdapter.mix_rows(originals, donors, np.zeros_like(take))
    pd.testing.assert_frame_equal(same, originals)


def test_changes_read_positionally_with_digits_enough_to_differ():
    original = pd.DataFrame({"income": [51910.23, 0.4002], "n": [3, 3], "c": "a"})
    answer = pd.DataFrame({"income": [42070.5, 0.40021], "n": [4, 3], "c": "b"})
    assert TabularAdapter.describe_changes(original, answer) == [
        ["income: 51910 -> 42070", "n: 3 -> 4", "c: a -> b"],
        ["income: 0.4002 -> 0.40021", "c: a -> b"],
    ]
    # Every digit of the integer part is written: never "123500".
    wide = pd.DataFrame({"income": [123456.7]})
    assert TabularAdapter.describe_changes(wide, wide + 3.3) == [
        ["income: 123457 -> 123460"]
    ]
    # Text whose plain form hides the change is quoted; other text is not.
    spaced = pd.DataFrame({"job": [" tech ", "", "clerk"]})
    trimmed = pd.DataFrame({"job": ["tech", "clerk", "manager"]})
    assert TabularAdapter.describe_changes(spaced, trimmed) == [
        ["job: ' tech ' -> 'tech'"],
        ["job: '' -> 'clerk'"],
        ["job: clerk -> manager"],
    ]
