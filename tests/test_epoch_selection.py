"""The GAN keeps its most realistic training epoch (``keep_best_epoch``)."""

import copy

import numpy as np
import pytest
from cf_testing import FAST, PeakHeight, frame_proba, frame_value, make_series
from hypothesis import given
from hypothesis import strategies as st
from skorch.callbacks import Callback

from cfexplain import CounterfactualGAN
from cfexplain._epoch_selection import VALIDITY_TOLERANCE, choose_epoch


class KeepWeights(Callback):
    """Record the generator's weights at the end of every epoch."""

    def initialize(self):
        self.states_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states_.append(copy.deepcopy(net.module_.state_dict()))


@pytest.fixture(scope="module")
def series():
    # 600 series hold out 60 for the self-check: enough for "auto".
    return make_series(n=600)


def test_choose_epoch_takes_the_most_realistic_of_the_valid_enough():
    validity = [0.5, 0.99, 1.0, 0.97, 1.0]
    mmd2 = [0.01, 0.20, 0.15, 0.05, 0.30]
    # Epoch 0 is the most realistic but far less valid; epoch 3 is outside
    # the tolerance too (0.97 < 1.0 - 0.02): epoch 2 wins.
    assert choose_epoch(validity, mmd2) == 2
    assert choose_epoch([1.0, 1.0], [np.nan, np.nan]) == 1
    assert choose_epoch([1.0, 1.0, 1.0], [0.2, np.nan, 0.1]) == 2


@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.one_of(st.floats(0, 2), st.just(float("nan"))),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_choose_epoch_always_returns_a_valid_enough_epoch(epochs):
    validity, mmd2 = (
        np.array(column, dtype=float) for column in zip(*epochs, strict=True)
    )
    best = choose_epoch(validity, mmd2)
    assert validity[best] >= validity.max() - VALIDITY_TOLERANCE
    eligible = validity >= validity.max() - VALIDITY_TOLERANCE
    finite = eligible & np.isfinite(mmd2)
    if finite.any():
        assert mmd2[best] == mmd2[finite].min()


def test_series_gan_answers_with_the_chosen_epochs_generator(series):
    weights = KeepWeights()
    gan = CounterfactualGAN(
        **{**FAST, "max_epochs": 3}, modality="series", callbacks=[weights]
    )
    gan.fit(series, predict_fn=PeakHeight())
    assert gan.keep_best_epoch_ is True
    assert gan.best_epoch_ in (1, 2, 3)
    history = gan.net_.history
    validity = history[:, "held_out_validity"]
    mmd2 = history[:, "held_out_class_mmd2"]
    assert len(validity) == len(mmd2) == 3
    assert gan.best_epoch_ == choose_epoch(validity, mmd2) + 1
    chosen = weights.states_[gan.best_epoch_ - 1]
    for name, value in gan.net_.module_.state_dict().items():
        assert np.array_equal(value.numpy(), chosen[name].numpy()), name
    # The per-epoch copies are not kept in the fitted explainer.
    choice = dict(gan.net_.callbacks_)["most_realistic_epoch"]
    assert choice.states_ == [] and choice.Xt is None


def test_auto_keeps_the_last_epoch_on_few_held_out_rows_and_on_tables(mixed_frame):
    few = CounterfactualGAN(**FAST, modality="series")
    few.fit(make_series(n=100), predict_fn=PeakHeight())  # 10 held out
    assert few.keep_best_epoch_ is False and few.best_epoch_ is None
    assert "held_out_class_mmd2" not in few.net_.history[-1]
    table = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    assert table.keep_best_epoch_ is False and table.best_epoch_ is None


def test_keep_best_epoch_true_works_on_tables(mixed_frame):
    table = CounterfactualGAN(**FAST, keep_best_epoch=True)
    table.fit(mixed_frame, frame_proba)
    assert table.keep_best_epoch_ is True and table.best_epoch_ in (1, 2)


def test_keep_best_epoch_true_without_held_out_rows_says_what_to_change():
    gan = CounterfactualGAN(
        **FAST, modality="series", keep_best_epoch=True, validation_fraction=0
    )
    with pytest.raises(ValueError, match="holds out 0; raise validation_fraction"):
        gan.fit(make_series(n=100), predict_fn=PeakHeight())


def test_keep_best_epoch_true_for_a_regression_model_is_refused(mixed_frame):
    gan = CounterfactualGAN(**FAST, keep_best_epoch=True)
    with pytest.raises(ValueError, match="regression model.*keep_best_epoch=False"):
        gan.fit(mixed_frame, frame_value)
