"""ImageEncoder: images to flat [0, 1] rows and back."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cfexplain.exceptions import InvalidDataError
from cfexplain.preprocessing import ImageEncoder

# Many images here are all dark (zeros): the scale warning has its own test.
pytestmark = pytest.mark.filterwarnings("ignore::cfexplain.PixelScaleWarning")

shapes = st.sampled_from([(3, 4, 5), (2, 1, 3, 3), (4, 3, 2, 2)])


@settings(max_examples=30, deadline=None)
@given(st.data(), shapes)
def test_uint8_round_trip_is_exact_and_input_untouched(data, shape):
    images = data.draw(arrays(np.uint8, shape))
    before = images.copy()
    encoder = ImageEncoder().fit(images)
    encoded = encoder.transform(images)
    assert encoded.dtype == np.float32
    assert encoded.shape == (shape[0], int(np.prod(shape[1:])))
    assert encoded.min() >= 0.0 and encoded.max() <= 1.0
    decoded = encoder.inverse_transform(encoded)
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, images)
    np.testing.assert_array_equal(images, before)


@settings(max_examples=30, deadline=None)
@given(st.data(), shapes)
def test_float_round_trip(data, shape):
    elements = st.floats(0.0, 1.0, width=32)
    images = data.draw(arrays(np.float32, shape, elements=elements))
    encoder = ImageEncoder().fit(images)
    decoded = encoder.inverse_transform(encoder.transform(images))
    assert decoded.dtype == np.float32 and decoded.shape == images.shape
    np.testing.assert_allclose(decoded, images, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (3, 16), elements=st.floats(-5, 5)))
def test_any_network_output_decodes_into_range(scores):
    images = np.zeros((3, 4, 4), dtype=np.uint8)
    decoded = ImageEncoder().fit(images).inverse_transform(scores)
    assert decoded.shape == (3, 4, 4) and decoded.dtype == np.uint8


def test_fitted_attributes():
    encoder = ImageEncoder().fit(np.zeros((2, 5, 6), dtype=np.uint8))
    assert encoder.input_shape_ == (5, 6)
    assert encoder.image_shape_ == (1, 5, 6)
    assert encoder.scale_ == 255.0
    assert encoder.n_features_in_ == 30
    (span,) = encoder.layout_.spans
    assert span.activation == "sigmoid" and span.stop == 30
    encoder = ImageEncoder().fit(np.zeros((2, 3, 5, 6), dtype=np.float32))
    assert encoder.image_shape_ == (3, 5, 6) and encoder.scale_ == 1.0
    restored = pickle.loads(pickle.dumps(encoder))
    assert restored.input_shape_ == (3, 5, 6)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((4, 5)), "shape"),
        (np.zeros((0, 2, 2)), "0 images"),
        (np.array([[[np.nan]]]), "NaN"),
        (np.full((1, 2, 2), 2.0), r"\[0, 1\]"),
        (np.full((1, 2, 2), 300, dtype=np.int64), "0-255"),
        (np.array([[["a"]]]), "numbers"),
    ],
)
def test_bad_images_are_named(images, message):
    with pytest.raises(InvalidDataError, match=message):
        ImageEncoder().fit(images)


def test_transform_checks_against_fit():
    encoder = ImageEncoder().fit(np.zeros((2, 4, 4), dtype=np.uint8))
    with pytest.raises(InvalidDataError, match="shape"):
        encoder.transform(np.zeros((2, 4, 5), dtype=np.uint8))
    with pytest.raises(InvalidDataError, match="fitted on uint8"):
        encoder.transform(np.zeros((2, 4, 4), dtype=np.float32))
    with pytest.raises(InvalidDataError, match=r"\(n, 16\)"):
        encoder.inverse_transform(np.zeros((2, 15)))


def test_one_image_without_its_batch_axis_gets_a_hint():
    encoder = ImageEncoder().fit(np.zeros((2, 1, 4, 4), dtype=np.float32))
    with pytest.raises(InvalidDataError, match=r"without its batch axis.*X\[None\]"):
        encoder.transform(np.zeros((1, 4, 4), dtype=np.float32))
    with pytest.raises(InvalidDataError, match="shape") as error:
        encoder.transform(np.zeros((2, 1, 4, 5), dtype=np.float32))
    assert "batch axis" not in str(error.value)


def test_integer_images_on_another_scale_warn():
    from cfexplain import PixelScaleWarning

    digits = np.random.default_rng(0).integers(0, 17, size=(5, 8, 8))  # 0-16
    with pytest.warns(PixelScaleWarning, match="largest value is 16"):
        ImageEncoder().fit(digits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageEncoder().fit((digits * 15).astype(np.uint8))  # 0-240
        ImageEncoder().fit(digits / 16.0)  # floats in [0, 1]
