"""Paper 1's counterfactual GAN on images: modules, averaged generator, estimator."""

import pickle

import numpy as np
import pytest
import torch
from cf_testing import FAST, HalfBrightness, frame_proba, image_proba, make_images

from cfexplain import CounterfactualGAN
from cfexplain.backends.losses import MMD_SCALES
from cfexplain.backends.modules import (
    ConditionalBatchNorm2d,
    ImageDiscriminator,
    ImageGenerator,
)
from cfexplain.modalities import ADAPTERS
from cfexplain.modalities.image import IMAGE_MMD_SCALES

IMAGE_FAST = {**FAST, "max_epochs": 3, "generator_hidden": (16,), "batch_size": 32}


def _one_hot(labels, k):
    return torch.eye(k)[torch.as_tensor(labels)]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 27, 27), (1, 8, 8), (2, 5, 7)])
def test_untrained_generator_returns_its_input(shape):
    torch.manual_seed(0)
    generator = ImageGenerator(None, 4, 8, (16, 16), shape).eval()
    X = torch.rand(6, int(np.prod(shape)))
    y = _one_hot([0, 1, 2, 3, 0, 1], 4)
    out = generator.counterfactual(X, y, y.flip(0), noise=torch.randn(6, 16))
    assert out.shape == X.shape
    torch.testing.assert_close(out, X)
    assert generator.noise_width == 16  # noise_dim values per block


def test_generator_output_stays_in_the_pixel_range_and_keeps_frozen_pixels():
    torch.manual_seed(0)
    generator = ImageGenerator(None, 3, 4, (8,), (1, 8, 8))
    torch.nn.init.normal_(generator.up_full.weight, std=5.0)  # large changes
    X = torch.rand(5, 64)
    mask = torch.zeros(5, 64)
    mask[:, :10] = 1
    y = _one_hot([0, 1, 2, 0, 1], 3)
    out = generator.eval()(X, y, y.roll(1, 0), mask, torch.randn(5, 4))
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(out[:, :10], X[:, :10])
    assert not torch.allclose(out[:, 10:], X[:, 10:])
    # training sees the unbounded sum, so losses can push it back in range
    raw = generator.train()(X, y, y.roll(1, 0), mask, torch.randn(5, 4))
    assert raw.min() < 0 or raw.max() > 1
    torch.testing.assert_close(raw[:, :10], X[:, :10])


def test_generator_answers_depend_on_the_target_and_the_noise():
    torch.manual_seed(0)
    generator = ImageGenerator(None, 3, 4, (8, 8), (1, 8, 8))
    for parameter in generator.parameters():  # leave the zero initialisation
        torch.nn.init.normal_(parameter, std=0.3)
    generator.eval()
    X = torch.rand(3, 64)
    y = _one_hot([0, 1, 2], 3)
    first = generator(X, y, y)
    assert not torch.allclose(first, generator(X, y, y.roll(1, 0)))
    assert not torch.allclose(first, generator(X, y, y, noise=torch.randn(3, 8)))


@pytest.mark.parametrize("train", [False, True])
def test_channels_last_weights_give_the_values_of_contiguous_ones(train):
    torch.manual_seed(0)
    generator = ImageGenerator(None, 3, 4, (8, 8), (1, 12, 12))
    discriminator = ImageDiscriminator(144, 3, (8, 16), (1, 12, 12))
    for module in (generator, discriminator):
        for parameter in module.parameters():  # leave the zero initialisation
            torch.nn.init.normal_(parameter, std=0.3)
        conv_weights = [p for p in module.parameters() if p.dim() == 4]
        assert conv_weights
        assert all(
            p.is_contiguous(memory_format=torch.channels_last) for p in conv_weights
        )
    contiguous = [
        pickle.loads(pickle.dumps(m)).to(memory_format=torch.contiguous_format)
        for m in (generator, discriminator)
    ]
    X = torch.rand(5, 144)
    y = _one_hot([0, 1, 2, 0, 1], 3)
    noise = torch.randn(5, 8)
    for module in (generator, discriminator, *contiguous):
        module.train(train)
    torch.testing.assert_close(
        generator(X, y, y.roll(1, 0), None, noise),
        contiguous[0](X, y, y.roll(1, 0), None, noise),
        atol=1e-5,
        rtol=1e-5,
    )
    # In evaluation the spectral norm runs no power iteration: comparable calls.
    discriminator.eval()
    contiguous[1].eval()
    torch.testing.assert_close(
        discriminator(X, y), contiguous[1](X, y), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("train", [False, True])
def test_evaluation_folds_the_normalisations_without_changing_the_answer(
    monkeypatch, train
):
    torch.manual_seed(0)
    generator = ImageGenerator(None, 3, 4, (8, 8), (1, 12, 12))
    for parameter in generator.parameters():  # leave the zero initialisation
        torch.nn.init.normal_(parameter, std=0.3)
    for module in generator.modules():  # running statistics away from (0, 1)
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    generator.train(train)  # in training the batch statistics, unfolded
    X = torch.rand(5, 144)
    y = _one_hot([0, 1, 2, 0, 1], 3)
    noise = torch.randn(5, 8)
    folded = generator(X, y, y.roll(1, 0), None, noise)
    # Gradients reach every parameter, folded or not.
    folded.sum().backward()
    assert all(p.grad is not None for p in generator.parameters())
    folded = folded.detach()

    # The same layers applied one by one: BatchNorm, then gain and bias.
    def plain_norm(self, X, condition):
        gain = 1.0 + self.gain(condition)[:, :, None, None]
        return self.norm(X) * gain + self.bias(condition)[:, :, None, None]

    monkeypatch.setattr(ConditionalBatchNorm2d, "forward", plain_norm)
    monkeypatch.setattr(
        ImageGenerator, "_conv_norm_relu", lambda self, layers, X: layers(X)
    )
    with torch.no_grad():
        plain = generator(X, y, y.roll(1, 0), None, noise)
    assert not torch.equal(plain, X)
    torch.testing.assert_close(folded, plain, atol=1e-5, rtol=1e-5)


def test_conditional_batchnorm_starts_as_batchnorm_and_reads_the_condition():
    layer = ConditionalBatchNorm2d(4, 3)
    X = torch.randn(8, 4, 5, 5)
    expected = torch.nn.functional.batch_norm(X, None, None, training=True)
    torch.testing.assert_close(layer(X, torch.randn(8, 3)), expected)
    torch.nn.init.normal_(layer.gain.weight)
    a, b = layer(X, torch.zeros(8, 3)), layer(X, torch.ones(8, 3))
    assert not torch.allclose(a, b)


def test_projection_discriminator_scores_depend_on_the_condition():
    torch.manual_seed(0)
    # eval: spectral norm runs no power iteration, so calls are comparable
    discriminator = ImageDiscriminator(3 * 64, 4, (8, 16), (3, 8, 8)).eval()
    X = torch.rand(5, 3 * 64)
    scores = discriminator(X, _one_hot([0, 1, 2, 3, 0], 4))
    assert scores.shape == (5,)
    other = discriminator(X, _one_hot([1, 2, 3, 0, 1], 4))
    assert not torch.allclose(scores, other)
    # soft conditions project linearly: halfway between two one-hots
    soft = discriminator(X, 0.5 * _one_hot([0] * 5, 4) + 0.5 * _one_hot([1] * 5, 4))
    a = discriminator(X, _one_hot([0] * 5, 4))
    b = discriminator(X, _one_hot([1] * 5, 4))
    torch.testing.assert_close(soft, 0.5 * (a + b), rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def images():
    return make_images(channels=1)


@pytest.fixture(scope="module")
def fitted(images):
    return CounterfactualGAN(**IMAGE_FAST).fit(images, predict_fn=HalfBrightness())


def test_an_image_repair_round_is_one_chunk():
    # Images have no training-row path, whose memory sets the chunks of
    # tables (16 rows of 64x64 images): the round is one call, batched by
    # the model's own rule.
    images = np.random.RandomState(0).randint(0, 255, (32, 64, 64)).astype(np.uint8)
    fitted = CounterfactualGAN(**{**IMAGE_FAST, "max_epochs": 1}, modality="image")
    fitted.fit(images, predict_fn=HalfBrightness())
    seen = []

    def record(batch, rejected, current, y_current):
        seen.append(len(rejected))
        return np.zeros(len(rejected), dtype=bool), current, y_current

    batch = fitted._batch(images, None, (None, None, None))
    y_cf = fitted.predictor_.predict(images)
    fitted._repair_round(record, batch, np.arange(len(images)), images, y_cf)
    assert seen == [len(images)]


def test_image_defaults_resolve_to_paper_1s_image_weights(fitted):
    assert fitted.modality_ == "image"
    assert fitted.sparsity_weight_ == 5.0
    assert fitted.mmd_weight_ == 20.0
    assert fitted.cycle_weight_ == 2.0
    assert fitted.ema_decay_ == 0.999
    assert fitted.net_.mmd_scales == IMAGE_MMD_SCALES
    assert fitted.generator_hidden_ == (16,)
    assert isinstance(fitted.net_.module_, ImageGenerator)
    assert isinstance(fitted.net_.discriminator_, ImageDiscriminator)
    history = fitted.net_.history[-1]["batches"][-1]
    assert {"adversarial_loss", "cycle_loss", "prediction_loss"} <= set(history)


def test_answers_come_from_the_averaged_generator(fitted):
    net = fitted.net_
    average = net.inference_module()
    assert average is net.generator_ema_ and average is not net.module_
    assert net.ema_updates_ == len(net.history) * len(net.history[-1]["batches"])
    trained = dict(net.module_.named_parameters())
    differs = [
        not torch.equal(value, trained[name])
        for name, value in average.named_parameters()
    ]
    assert any(differs)
    # buffers (BatchNorm statistics) are copied
    for (name, value), (_, copied) in zip(
        net.module_.named_buffers(), average.named_buffers(), strict=True
    ):
        assert torch.equal(value, copied), name
    assert not any(p.requires_grad for p in average.parameters())


def test_no_average_when_ema_decay_is_zero(images):
    cf = CounterfactualGAN(**IMAGE_FAST, ema_decay=0.0).fit(
        images[:40], predict_fn=HalfBrightness()
    )
    assert cf.net_.inference_module() is cf.net_.module_
    assert not hasattr(cf.net_, "generator_ema_")


def test_transform_keeps_dtype_and_immutable_pixels(fitted, images):
    frozen = np.zeros((8, 8), dtype=bool)
    frozen[:, :2] = True
    X_cf = fitted.transform(images[:20], target=1, immutable=frozen)
    assert X_cf.dtype == np.uint8 and X_cf.shape == (20, 1, 8, 8)
    np.testing.assert_array_equal(X_cf[:, 0, :, :2], images[:20, 0, :, :2])


def test_pickles_with_its_spectrally_normalised_discriminator(fitted, images):
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        again.transform(images[:10], target=1), fitted.transform(images[:10], target=1)
    )


def test_three_channels_many_classes_and_a_black_box():
    """Colored-MNIST-like data: 3 channels, 6 classes, a callable model."""
    rng = np.random.RandomState(0)
    images = rng.randint(0, 30, size=(60, 3, 8, 8)).astype(np.uint8)
    colour = np.arange(60) % 3
    images[np.arange(60), colour, 2:6, 2:6] = 220

    def proba(X):
        X = np.asarray(X, dtype=np.float64).reshape(len(X), 3, -1).mean(axis=2)
        right = np.asarray(X).reshape(len(X), 3)
        logits = np.concatenate([right, -right], axis=1) / 20.0
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    cf = CounterfactualGAN(**IMAGE_FAST).fit(images, predict_fn=proba)
    assert cf.surrogate_ is not None
    X_cf = cf.transform(images[:12], target=np.arange(12) % 6)
    assert X_cf.shape == (12, 3, 8, 8) and X_cf.dtype == np.uint8


def test_black_box_image_model(images):
    cf = CounterfactualGAN(**IMAGE_FAST).fit(images, predict_fn=image_proba)
    explanation = cf.explain(images[:6], target="opposite")
    assert explanation.counterfactuals.shape == (6, 1, 8, 8)
    assert explanation.valid.shape == (6, 1)


def test_given_weights_override_the_image_defaults(images):
    cf = CounterfactualGAN(
        **IMAGE_FAST, prediction_weight=0.5, sparsity_weight=2.0, ema_decay=0.9
    ).fit(images[:40], predict_fn=HalfBrightness())
    assert (cf.sparsity_weight_, cf.ema_decay_) == (2.0, 0.9)
    assert cf.prediction_weight_ == 0.5
    assert cf.net_.prediction_weight == 0.5
    assert cf.net_.sparsity_weight == 2.0
    assert cf.net_.ema_decay == 0.9


def test_auto_prediction_weight_is_two_for_images_one_for_tables(images, mixed_frame):
    pictures = CounterfactualGAN(**IMAGE_FAST).fit(images[:40], HalfBrightness())
    assert pictures.prediction_weight_ == pictures.net_.prediction_weight == 2.0
    tables = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    assert tables.prediction_weight_ == tables.net_.prediction_weight == 1.0
    assert tables.net_.mmd_scales == MMD_SCALES != IMAGE_MMD_SCALES
    # Paper 1's CTGAN rate for tables (A.3), also kept for images.
    for fitted in (pictures, tables):
        assert fitted.lr_generator_ == fitted.lr_discriminator_ == 2e-4
        assert fitted.net_.optimizer_.param_groups[0]["lr"] == 2e-4


@pytest.mark.parametrize(("n_rows", "epochs"), [(4000, 18), (64_000, 2), (200, 367)])
def test_image_budget_is_about_1100_steps_of_64(n_rows, epochs):
    gan = CounterfactualGAN()
    gan.adapter_ = ADAPTERS["image"]()
    assert gan._training_budget(n_rows) == (64, epochs)


def test_image_budget_keeps_what_is_given():
    gan = CounterfactualGAN(max_epochs=3)
    gan.adapter_ = ADAPTERS["image"]()
    assert gan._training_budget(4000) == (64, 3)
    gan = CounterfactualGAN(batch_size=32)  # 125 steps an epoch: 9 epochs
    gan.adapter_ = ADAPTERS["image"]()
    assert gan._training_budget(4000) == (32, 9)


def test_batch_class_mmd_compares_each_target_class_with_its_real_rows():
    from types import SimpleNamespace

    from cfexplain.backends.nets import GeneratorBatch, batch_class_mmd_loss

    torch.manual_seed(0)
    a, b = torch.rand(5), torch.rand(5)
    X = torch.stack([a] * 4 + [b] * 4)
    y_model = _one_hot([0, 0, 0, 0, 1, 1, 1, 1], 2)
    y_target = 1 - y_model  # every row aimed at the other class
    reference = {
        "reference_rows": torch.stack([a] * 3 + [b] * 5).numpy(),
        "reference_labels": np.array([0, 0, 0, 1, 1, 1, 1, 1]),
    }
    net = SimpleNamespace(
        task="classification",
        batch_size=16,
        mmd_scales=(0.5, 1.0, 2.0),
        sampling_generator_=torch.Generator().manual_seed(0),
    )

    def loss(X_cf, reference=reference):
        batch = GeneratorBatch(X, y_model, y_target, None, None, X_cf, reference)
        return float(batch_class_mmd_loss(net, batch))

    # Counterfactuals that look like the real rows of their target class: 0,
    # whether those come from the training set or from the batch itself.
    swapped = torch.stack([b] * 4 + [a] * 4)
    assert loss(swapped) == pytest.approx(0.0, abs=1e-6)
    assert loss(swapped, reference=None) == pytest.approx(0.0, abs=1e-6)
    assert loss(X) > 1.0
    assert loss(swapped + 1.0) > 1.0
    net.task = "regression"
    assert loss(X) == 0.0


def test_class_mmd_draws_at_least_min_reference_rows_per_class(monkeypatch):
    from cfexplain.backends import losses

    drawn = []

    def record_sizes(X, Y, scales):
        drawn.append((len(X), len(Y), scales))
        return X.sum() * 0

    monkeypatch.setattr(losses, "mmd_loss", record_sizes)
    losses.class_mmd_to_reference(
        torch.zeros(6, 3),
        np.array([0, 0, 1, 1, 1, 2]),
        np.zeros((7, 3), dtype=np.float32),
        np.array([0, 0, 1, 1, 2, 2, 2]),
        torch.Generator().manual_seed(0),
        min_reference=10,
        scales=(0.25, 1.0),
    )
    # Class 2 has one counterfactual: skipped; the others draw 10 rows, and
    # the kernel gets the bandwidths asked for.
    assert drawn == [(2, 10, (0.25, 1.0)), (3, 10, (0.25, 1.0))]


def test_mmd_weight_adds_the_term_to_the_generator_loss(images):
    cf = CounterfactualGAN(**IMAGE_FAST, mmd_weight=1.0).fit(
        images[:64], predict_fn=HalfBrightness()
    )
    assert cf.net_.mmd_weight == 1.0
    assert "mmd_loss" in cf.net_.history[-1]["batches"][-1]
    # Its real rows come from the training set, by the model's class.
    reference = cf._net_fit_params(np.zeros((3, 4)), np.eye(2)[[0, 1, 1]])
    np.testing.assert_array_equal(reference["reference_labels"], [0, 1, 1])
    cf.mmd_weight_ = 0.0  # as resolved for tables
    assert cf._net_fit_params(np.zeros((3, 4)), np.eye(2)[[0, 1, 1]]) == {}
