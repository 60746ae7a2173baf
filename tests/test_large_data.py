"""Transform in chunks: bounded memory, the same answer; explainers Dask can hash."""

import pickle

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    frame_proba,
    frame_value,
    make_mixed_frame,
    make_series,
    series_proba,
)

from cfexplain import ConstraintError, CounterfactualAE, CounterfactualGAN


@pytest.fixture(scope="module")
def gan(mixed_frame):
    return CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)


def test_chunked_transform_equals_one_batch(gan):
    X = make_mixed_frame(n=1500, seed=4)
    labels = np.where(np.arange(len(X)) % 2 == 0, 0, 1)
    kwargs = {"target": labels, "immutable": ["color"], "bounds": {"hours": (30, 50)}}
    whole = gan.set_params(chunk_size=5000).transform(X, **kwargs)
    chunked = gan.set_params(chunk_size=128).transform(X, **kwargs)
    pd.testing.assert_frame_equal(chunked, whole)
    assert gan.set_params(chunk_size="auto")._chunk_rows() >= 1024


def test_per_row_probability_targets_are_cut_with_the_rows(gan):
    X = make_mixed_frame(n=1100, seed=5)
    proba = np.tile([[0.2, 0.8]], (len(X), 1))
    proba[::3] = [0.9, 0.1]
    whole = gan.set_params(chunk_size=2000).transform(X, target=proba)
    chunked = gan.set_params(chunk_size=100).transform(X, target=proba)
    pd.testing.assert_frame_equal(chunked, whole)


def test_chunked_regression_with_per_row_intervals(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    X = make_mixed_frame(n=1030, seed=6)
    value = frame_value(X)
    intervals = np.column_stack([value + 5, value + 15])
    whole = cf.set_params(chunk_size=2048).transform(X, target=intervals)
    chunked = cf.set_params(chunk_size=300).transform(X, target=intervals)
    pd.testing.assert_frame_equal(chunked, whole)


def test_chunked_series_equal_one_batch():
    series = make_series(n=1200, seed=1)
    cf = CounterfactualAE(**FAST_AUTOENCODER, modality="series").fit(
        series[:200], series_proba
    )
    whole = cf.set_params(chunk_size=4096).transform(series)
    chunked = cf.set_params(chunk_size=250).transform(series)
    # Float outputs: equal up to the last bit of batch-size-dependent BLAS.
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-5)
    assert chunked.shape == series.shape and chunked.dtype == series.dtype


def test_conflicts_name_positions_in_the_whole_input(gan):
    X = make_mixed_frame(n=1200, seed=7)
    X["age"] = 30
    X.iloc[1000, X.columns.get_loc("age")] = 75
    with pytest.raises(ConstraintError, match=r"1 of 1200 rows \(positions 1000;"):
        gan.set_params(chunk_size=256).transform(
            X, bounds={"age": (18, 70)}, monotonic={"age": "increasing"}
        )
    gan.set_params(chunk_size="auto")


def test_chunk_size_is_validated(mixed_frame):
    with pytest.raises(ValueError, match="chunk_size"):
        CounterfactualGAN(**FAST, chunk_size=0).fit(mixed_frame, frame_proba)


def test_fitted_explainers_tokenize_deterministically(gan):
    token = gan.__dask_tokenize__()
    assert token == gan.__dask_tokenize__()
    assert token[0] == "CounterfactualGAN"
    # Same weights and parameters, same token; other parameters, another.
    assert pickle.loads(pickle.dumps(gan)).__dask_tokenize__() == token
    other = CounterfactualGAN(**{**FAST, "noise_dim": 3})
    assert other.__dask_tokenize__() != CounterfactualGAN(**FAST).__dask_tokenize__()


def test_per_row_intervals_as_a_list_are_served_in_chunks(mixed_frame):
    # A list mixing values and (low, high) tuples with None: sliced per
    # chunk as the user wrote it (numpy could not read it as one array).
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    X = mixed_frame.iloc[:6]
    now = frame_value(X)
    target = [(now[0] + 5, None), float(now[1]), (None, now[2] - 5)] * 2
    whole = cf.set_params(chunk_size=4096).transform(X, target=target)
    chunked = cf.set_params(chunk_size=2).transform(X, target=target)
    cf.set_params(chunk_size="auto")
    pd.testing.assert_frame_equal(chunked, whole)
