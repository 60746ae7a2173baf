import numpy as np
import pytest
import torch
from cf_testing import make_mixed_frame

from cfexplain.backends.losses import prediction_loss, sparsity_loss
from cfexplain.backends.modules import (
    NumericValues,
    SpanActivation,
    TabularGenerator,
    TabularPerturbationAE,
)
from cfexplain.backends.sampling import sample_feature_masks, sample_targets
from cfexplain.preprocessing import TabularEncoder


@pytest.fixture(scope="module", params=["mode_specific", "standard", "minmax"])
def encoded(request):
    X = make_mixed_frame(n=120)
    encoder = TabularEncoder(numerical=request.param, random_state=0).fit(X)
    return X, encoder, encoder.transform(X)


def test_numeric_values_match_the_decoder(encoded):
    X, encoder, Xt = encoded
    decodings = encoder.numeric_decodings()
    assert [d.feature for d in decodings] == ["age", "hours"]
    values = NumericValues(decodings, [1.0, 1.0])(torch.as_tensor(Xt)).numpy()
    np.testing.assert_allclose(values[:, 0], X["age"], atol=1e-3)
    np.testing.assert_allclose(values[:, 1], X["hours"], atol=1e-3)


def test_untrained_generator_returns_its_input(encoded):
    _, encoder, Xt = encoded
    x = torch.as_tensor(Xt)
    generator = TabularGenerator(encoder.layout_, 2, 3, (8,)).eval()
    cond = torch.full((len(x), 2), 0.5)
    with torch.no_grad():
        out = generator.counterfactual(x, cond, cond, torch.zeros_like(x))
    decoded = encoder.inverse_transform(out.numpy())
    original = encoder.inverse_transform(Xt)
    for column in ["age", "color", "member"]:
        assert (decoded[column] == original[column]).all()
    np.testing.assert_allclose(decoded["hours"], original["hours"], rtol=1e-4)


def test_frozen_columns_are_copied(encoded):
    _, encoder, Xt = encoded
    x = torch.as_tensor(Xt)
    generator = TabularGenerator(encoder.layout_, 2, 3, (8,))
    torch.nn.init.normal_(generator.head.weight)
    mask = torch.zeros_like(x)
    mask[:, :3] = 1
    cond = torch.full((len(x), 2), 0.5)
    out = generator(x, cond, cond, mask, torch.randn(len(x), 3))
    assert torch.equal(out[:, :3], x[:, :3])


@pytest.mark.parametrize("frozen", [None, "free", "some"])
@pytest.mark.parametrize("with_noise", [False, True])
def test_generator_inference_path_equals_the_training_path(encoded, frozen, with_noise):
    # Without gradients the generator folds BatchNorm into its linear layers
    # and skips zero inputs: the answer must not change.
    _, encoder, Xt = encoded
    x = torch.as_tensor(Xt)
    torch.manual_seed(0)
    generator = TabularGenerator(encoder.layout_, 2, 3, (8, 16))
    for parameter in generator.parameters():
        torch.nn.init.normal_(parameter, std=0.5)
    for block in generator.body:
        block.bn.running_mean.normal_()
        block.bn.running_var.uniform_(0.5, 2.0)
    generator.eval()
    mask = {None: None, "free": torch.zeros_like(x), "some": torch.zeros_like(x)}[
        frozen
    ]
    if frozen == "some":
        mask[:, :3] = 1
    noise = torch.randn(len(x), 3) if with_noise else None
    cond, target = torch.full((len(x), 2), 0.3), torch.full((len(x), 2), 0.7)
    with torch.no_grad():
        fast = generator.counterfactual(x, cond, target, mask, noise)
    slow = generator.counterfactual(x, cond, target, mask, noise).detach()
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("frozen", [None, "free", "some"])
def test_autoencoder_inference_path_equals_the_training_path(encoded, frozen):
    # Without gradients the autoencoder reads its decoder's input piece by
    # piece and skips an all-free mask: the answer must not change.
    _, encoder, Xt = encoded
    x = torch.as_tensor(Xt)
    torch.manual_seed(0)
    autoencoder = TabularPerturbationAE(encoder.layout_, 2, 4, (8, 16))
    for parameter in autoencoder.parameters():
        torch.nn.init.normal_(parameter, std=0.5)
    autoencoder.eval()
    mask = None if frozen is None else torch.zeros_like(x)
    if frozen == "some":
        mask[:, :3] = 1
    cond, target = torch.full((len(x), 2), 0.3), torch.full((len(x), 2), 0.7)
    with torch.no_grad():
        fast = autoencoder.counterfactual(x, cond, target, mask)
    slow = autoencoder.counterfactual(x, cond, target, mask).detach()
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    if frozen == "some":
        assert torch.equal(fast[:, :3], x[:, :3])


def test_span_activation_gives_exact_one_hots(encoded):
    _, encoder, _ = encoded
    activation = SpanActivation(encoder.layout_)
    scores = torch.randn(50, encoder.layout_.n_columns, requires_grad=True)
    out = activation(scores, sample=True, generator=torch.Generator().manual_seed(0))
    for span in encoder.layout_.spans:
        if span.is_one_hot:
            block = out[:, span.as_slice()]
            torch.testing.assert_close(block.sum(dim=1), torch.ones(50))
            assert ((block - 0.5).abs() > 0.49).all()  # hard values
    out.sum().backward()
    assert scores.grad is not None and torch.isfinite(scores.grad).all()


def test_losses_hand_computed():
    logp = torch.log(torch.tensor([[0.25, 0.75]]))
    target = torch.tensor([[0.0, 1.0]])
    assert prediction_loss(logp, target, "classification").item() == pytest.approx(
        -np.log(0.75)
    )
    value = torch.tensor([3.0])
    interval = torch.tensor([[1.0, 0.5]])  # [0.5, 1.5]
    assert prediction_loss(value, interval, "regression").item() == pytest.approx(2.25)
    X = torch.tensor([[1.0, 0.0, 0.5]])
    X_cf = torch.tensor([[0.0, 1.0, 0.0]])
    assert sparsity_loss(X, X_cf, n_features=2).item() == pytest.approx(1.25)


def test_sampling_shapes_and_ranges():
    g = torch.Generator().manual_seed(0)
    y = torch.softmax(torch.randn(200, 3), dim=1)
    targets = sample_targets(y, "classification", generator=g)
    assert targets.shape == (200, 3)
    torch.testing.assert_close(targets.sum(dim=1), torch.ones(200))
    masks = sample_feature_masks(200, 5, 0.5, generator=g)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    assert (masks.sum(dim=1) == 0).float().mean() > 0.4  # unmasked rows remain


def test_prediction_margin_is_a_hinge_on_the_divergence():
    logp = torch.log(torch.tensor([[0.2, 0.8], [0.6, 0.4]]))
    target = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    plain = prediction_loss(logp, target, "classification")
    hinge = prediction_loss(logp, target, "classification", margin=0.3)
    assert plain.item() == pytest.approx((-np.log(0.8) - np.log(0.4)) / 2)
    # row 0 is within the margin, row 1 pays its excess only
    assert hinge.item() == pytest.approx((-np.log(0.4) - 0.3) / 2)


def _batches(loader):
    """Every batch of one epoch, as plain arrays."""
    return [({k: v.numpy() for k, v in X.items()}, y.numpy()) for X, y in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_loader_gives_the_batches_of_torchs_data_loader(shuffle, drop_last):
    # The explainers train on batch_loader for speed; their results must
    # stay those of skorch's default DataLoader, epoch after epoch, and the
    # user's global torch generator must not move.
    from skorch.dataset import Dataset
    from torch.utils.data import DataLoader

    from cfexplain.backends.batches import batch_loader

    rng = np.random.default_rng(0)
    X = {
        "X": rng.normal(size=(103, 4)).astype(np.float32),
        "y_model": rng.random(size=(103, 2)).astype(np.float32),
    }
    dataset = Dataset(X, rng.integers(0, 2, size=103))
    kwargs = dict(batch_size=16, shuffle=shuffle, drop_last=drop_last)
    state = torch.random.get_rng_state()
    ours = batch_loader(dataset, generator=torch.Generator().manual_seed(3), **kwargs)
    torchs = DataLoader(dataset, generator=torch.Generator().manual_seed(3), **kwargs)
    for _ in range(2):
        got, expected = _batches(ours), _batches(torchs)
        assert len(got) == len(expected) == (6 if drop_last else 7)
        for (X_got, y_got), (X_expected, y_expected) in zip(got, expected, strict=True):
            assert X_got["X"].dtype == np.float32
            np.testing.assert_array_equal(X_got["X"], X_expected["X"])
            np.testing.assert_array_equal(X_got["y_model"], X_expected["y_model"])
            np.testing.assert_array_equal(y_got, y_expected)
            assert y_got.dtype == y_expected.dtype
    assert torch.equal(torch.random.get_rng_state(), state)


def test_batch_loader_without_labels_gives_the_rows_of_torchs_data_loader():
    # The explainers' nets train without y: skorch then puts a placeholder
    # in its place, which the nets never read.
    from skorch.dataset import Dataset
    from torch.utils.data import DataLoader

    from cfexplain.backends.batches import batch_loader

    X = {"X": np.arange(40, dtype=np.float32).reshape(20, 2)}
    dataset = Dataset(X, None)
    kwargs = dict(batch_size=6, shuffle=True, drop_last=True)
    ours = batch_loader(dataset, generator=torch.Generator().manual_seed(5), **kwargs)
    torchs = DataLoader(dataset, generator=torch.Generator().manual_seed(5), **kwargs)
    for (X_got, y_got), (X_expected, _) in zip(ours, torchs, strict=True):
        assert torch.equal(X_got["X"], X_expected["X"])
        assert torch.equal(y_got, torch.zeros(1))


def test_batch_loader_refuses_to_be_given_its_own_sampler():
    from torch.utils.data import SequentialSampler

    from cfexplain.backends.batches import batch_loader

    data = torch.zeros(4, 2)
    with pytest.raises(TypeError, match="batch_loader sets sampler itself"):
        batch_loader(data, batch_size=2, sampler=SequentialSampler(data))


def test_uniform_dropout_is_dropout():
    from cfexplain.backends.modules._layers import UniformDropout

    layer = UniformDropout(0.25)
    X = torch.ones(400, 250, requires_grad=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out = layer(X)
        torch.manual_seed(0)
        again = layer(X)
    assert torch.equal(out, again)  # seeded by torch's global generator
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    assert torch.allclose(out[kept], torch.tensor(1 / 0.75))
    out.sum().backward()
    assert torch.equal(X.grad, out.detach())  # the same mask, the same scale
    layer.eval()
    assert torch.equal(layer(X), X)
    assert torch.equal(UniformDropout(1.0)(X), torch.zeros_like(X))
    with pytest.raises(ValueError, match="dropout probability"):
        UniformDropout(1.5)
