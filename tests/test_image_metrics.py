"""RandomImageEmbedding and the IM1 / IM2 interpretability scores."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from cfexplain.exceptions import InvalidDataError
from cfexplain.metrics import (
    InterpretabilityAutoencoders,
    RandomImageEmbedding,
    class_conditional_mmd2,
)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((40, 1, 12, 12), dtype=np.float32)


def test_embedding_shape_dtype_and_seed(images):
    first = RandomImageEmbedding(random_state=3).fit(images).transform(images)
    again = RandomImageEmbedding(random_state=3).fit(images).transform(images)
    other = RandomImageEmbedding(random_state=4).fit(images).transform(images)
    assert first.shape == (40, 32)
    assert first.dtype == np.float64
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_embedding_leaves_the_global_torch_state_alone(images):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    RandomImageEmbedding(random_state=0).fit(images)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_embedding_is_paper_1s_encoder_on_mnist_sized_images():
    """Three 7x7 stride-2 convolutions (64, 128, 256) then a linear map to 32."""
    X = np.zeros((2, 28, 28), dtype=np.uint8)
    embedding = RandomImageEmbedding().fit(X)
    convolutions = [m for m in embedding.encoder_ if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convolutions] == [64, 128, 256]
    assert {c.kernel_size for c in convolutions} == {(7, 7)}
    assert {c.stride for c in convolutions} == {(2, 2)}
    assert embedding.encoder_[-1].in_features == 256 * 4 * 4
    assert embedding.image_shape_ == (1, 28, 28)


def test_embedding_reads_uint8_as_grey_levels(images):
    as_uint8 = np.round(images * 255).astype(np.uint8)
    embedding = RandomImageEmbedding().fit(images)
    np.testing.assert_allclose(
        embedding.transform(as_uint8),
        embedding.transform(as_uint8.astype(np.float32) / 255),
        rtol=1e-6,
    )


def test_embedding_refuses_other_shapes_and_bad_values(images):
    embedding = RandomImageEmbedding().fit(images)
    with pytest.raises(InvalidDataError, match="fitted on"):
        embedding.transform(images[:, :, :10])
    with pytest.raises(InvalidDataError, match="NaN"):
        embedding.transform(np.full_like(images, np.nan))
    with pytest.raises(InvalidDataError, match="shape"):
        embedding.transform(images.reshape(40, -1))


def test_embedding_class_mmd_separates_classes():
    """Images of two different patterns are far apart under the embedding."""
    rng = np.random.default_rng(1)
    left = np.zeros((30, 1, 12, 12), dtype=np.float32)
    left[:, :, :, :6] = 1
    right = left[:, :, :, ::-1].copy()
    X = np.concatenate([left, right]) + 0.05 * rng.random((60, 1, 12, 12))
    labels = np.repeat([0, 1], 30)
    Z = RandomImageEmbedding().fit(X).transform(X)
    same = class_conditional_mmd2(
        Z[::2], Z[1::2], labels[::2], labels[1::2], encode=False
    )
    swapped = class_conditional_mmd2(
        Z[::2], Z[1::2], labels[::2], 1 - labels[1::2], encode=False
    )
    assert max(same.values()) < min(swapped.values())


@pytest.fixture(scope="module")
def two_patterns():
    rng = np.random.default_rng(2)
    left = np.zeros((40, 1, 8, 8), dtype=np.float32)
    left[:, :, :, :4] = 1
    X = np.concatenate([left, left[:, :, :, ::-1]])
    X = np.clip(X + 0.05 * rng.standard_normal(X.shape), 0, 1).astype(np.float32)
    return X, np.repeat([0, 1], 40)


def test_im1_im2_favour_images_of_the_claimed_class(two_patterns):
    X, y = two_patterns
    scorer = InterpretabilityAutoencoders(epochs=60, random_state=0).fit(X, y)
    # an image of class 1 claimed as class 1 (from class 0) scores IM1 < 1;
    # claimed as class 0 (from class 1) it scores IM1 > 1
    im1_right = scorer.im1(X[40:], original_class=0, counterfactual_class=1)
    im1_wrong = scorer.im1(X[40:], original_class=1, counterfactual_class=0)
    assert im1_right.shape == (40,)
    assert im1_right.dtype == np.float64
    assert np.median(im1_right) < 1 < np.median(im1_wrong)
    im2_right = scorer.im2(X[40:], counterfactual_class=1)
    im2_wrong = scorer.im2(X[40:], counterfactual_class=0)
    assert (im2_right >= 0).all()
    assert np.median(im2_right) < np.median(im2_wrong)


def test_im_scores_are_reproducible_and_clone(two_patterns):
    X, y = two_patterns
    first = InterpretabilityAutoencoders(epochs=2, random_state=5).fit(X, y)
    second = clone(first).fit(X, y)
    np.testing.assert_array_equal(
        first.im2(X, counterfactual_class=y), second.im2(X, counterfactual_class=y)
    )


def test_im_scores_refuse_unknown_classes_and_bad_labels(two_patterns):
    X, y = two_patterns
    scorer = InterpretabilityAutoencoders(epochs=1).fit(X, y)
    with pytest.raises(InvalidDataError, match="not seen at fit"):
        scorer.im2(X[:3], counterfactual_class=[0, 1, 7])
    with pytest.raises(InvalidDataError, match="one class per image"):
        scorer.im1(X[:3], original_class=[0, 1], counterfactual_class=1)
    with pytest.raises(InvalidDataError, match="at least 2"):
        InterpretabilityAutoencoders(epochs=1).fit(X[:41], y[:41])
