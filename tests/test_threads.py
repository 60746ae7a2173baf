"""The model under explanation runs with BLAS on one thread while an explainer works."""

import numpy as np
import pytest
from cf_testing import FAST, frame_proba
from threadpoolctl import threadpool_info, threadpool_limits

from cfexplain import CounterfactualGAN
from cfexplain._threads import blas_on_one_thread


def _blas_threads():
    return [
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    ]


@pytest.fixture(autouse=True)
def _two_blas_threads():
    # The checks below need a baseline above one thread to be able to fail
    # (CI machines often set OPENBLAS_NUM_THREADS=1).
    with threadpool_limits(limits=2, user_api="blas"):
        assert all(n == 2 for n in _blas_threads())
        yield


@pytest.fixture
def recording_model():
    seen = []

    def model(X):
        seen.append(_blas_threads())
        return frame_proba(X)

    return model, seen


def test_fit_and_transform_call_the_model_with_one_blas_thread(
    mixed_frame, recording_model
):
    model, seen = recording_model
    before = _blas_threads()
    # On the CPU, where the explainer's torch threads and the model's BLAS
    # would share the cores (a GPU leaves them alone: see below).
    cf = CounterfactualGAN(**FAST, device="cpu").fit(mixed_frame, model)
    cf.transform(mixed_frame.iloc[:20])
    cf.explain(mixed_frame.iloc[:5], n_counterfactuals=2)
    # Without repairs, explain and score call the model outside the engine.
    cf.set_params(max_rounds=0)
    cf.explain(mixed_frame.iloc[:5])
    cf.score(mixed_frame.iloc[:5])
    cf.transform(mixed_frame.iloc[:5])
    assert seen
    assert all(threads == [1] * len(threads) for threads in seen)
    # The user's settings come back afterwards.
    assert _blas_threads() == before


def test_nothing_is_limited_on_a_gpu():
    before = _blas_threads()
    with blas_on_one_thread("cuda:0"):
        assert _blas_threads() == before
    with blas_on_one_thread("cpu"):
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before


def test_concurrent_transforms_restore_the_users_settings(mixed_frame):
    # Dask's threaded scheduler runs transforms side by side in one process.
    from concurrent.futures import ThreadPoolExecutor

    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    before = _blas_threads()
    parts = [mixed_frame.iloc[i : i + 10] for i in range(0, len(mixed_frame) - 9, 10)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            list(pool.map(cf.transform, parts))
    assert _blas_threads() == before


def test_nested_limits_restore_on_the_last_exit():
    before = _blas_threads()
    with blas_on_one_thread("cpu"):
        with blas_on_one_thread("cpu", refresh=True):
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before


def test_warnings_from_fit_point_at_the_callers_line(mixed_frame):
    # The limit wraps fit's body, not fit: warnings keep their stack levels.
    def single_class(X):
        return np.tile([1.0, 0.0], (len(X), 1))

    with pytest.warns(UserWarning, match="single class") as record:
        CounterfactualGAN(**FAST, task="classification").fit(mixed_frame, single_class)
    assert {w.filename for w in record} == {__file__}
