"""Mode-specific normalisation of numerical columns (CTGAN, Xu et al. 2019).

A numerical column rarely follows one Gaussian: incomes have a spike at zero
and a long tail, ages cluster by life stage. Min-max or standard scaling
squeezes such a column into a narrow band where a generator's ``tanh`` output
struggles to place values. CTGAN (Xu et al., 2019, section 4.2), whose
representation the tabular counterfactual GAN reuses (paper 1, section 3.4 and
appendix A.3), instead fits a variational Gaussian mixture to each column and
writes every value as the one-hot index of its mode ``k`` plus a scalar
``(value - mu_k) / (4 * sigma_k)`` that lies in ``[-1, 1]``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..exceptions import InvalidDataError

__all__ = ["ModeSpecificNormalizer"]

# CTGAN's scalar is (x - mu) / (4 sigma): four standard deviations hold
# 99.99% of a Gaussian mode, so the scalar fits the range of a tanh.
_STD_MULTIPLIER = 4.0
# Points of the regular grid over a column's fitted range on which the reach of
# every mode is measured (see ``_fit_column``).
_GRID_SIZE = 1025
_SEED_BOUND = np.iinfo(np.int32).max


def resolve_feature_names(estimator, input_features, default_names=None):
    """Return output base names as scikit-learn's ``get_feature_names_out`` does.

    Parameters
    ----------
    estimator : estimator instance
        A fitted estimator with ``n_features_in_`` and, when it was fitted on
        a DataFrame with string column names, ``feature_names_in_``.
    input_features : array-like of str or None
        Names given by the caller; ``None`` means the fitted names.
    default_names : sequence of str, optional
        Names to use when ``input_features`` is ``None`` and the estimator has
        no ``feature_names_in_``. Defaults to ``x0, x1, ...``.

    Returns
    -------
    ndarray of object
        One name per input feature.

    Raises
    ------
    ValueError
        If ``input_features`` differs from ``feature_names_in_`` or has the
        wrong length.
    """
    n_features = estimator.n_features_in_
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if input_features is None:
        if fitted_names is not None:
            return np.asarray(fitted_names, dtype=object)
        if default_names is not None:
            return np.asarray(list(default_names), dtype=object)
        return np.asarray([f"x{i}" for i in range(n_features)], dtype=object)
    input_features = np.asarray(input_features, dtype=object)
    if fitted_names is not None and not np.array_equal(fitted_names, input_features):
        raise ValueError("input_features is not equal to feature_names_in_")
    if len(input_features) != n_features:
        raise ValueError(
            "input_features should have length equal to number of features "
            f"({n_features}), got {len(input_features)}"
        )
    return input_features


def _most_probable_mode(values, weights, means, stds):
    """Index of the mode with the largest posterior for every value.

    The posterior of mode ``k`` is proportional to
    ``w_k * N(x | mu_k, sigma_k)``; its logarithm is computed directly, so a
    value far in a tail still gets the mode whose density decays slowest
    instead of a tie of underflowed probabilities.
    """
    z = (values[:, None] - means[None, :]) / stds[None, :]
    log_posterior = np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z * z
    return np.argmax(log_posterior, axis=1)


class ModeSpecificNormalizer(TransformerMixin, BaseEstimator):
    """Mode-specific normalisation of numerical columns, as in CTGAN.

    Every column gets a variational (Dirichlet process) Gaussian mixture of at
    most ``max_modes`` components, fitted the way CTGAN and RDT's
    ``ClusterBasedNormalizer`` do (``weight_concentration_prior=0.001``,
    ``n_init=1``); components whose weight is at most ``weight_threshold`` are
    dropped. A value ``x`` of mode ``k`` is encoded as the scalar
    ``(x - means_[j][k]) / (4 * stds_[j][k])`` followed by the one-hot
    indicator of ``k`` among the kept modes, so each input column ``j``
    becomes ``1 + n_modes_[j]`` output columns.

    Read more in Xu et al., "Modeling Tabular Data using Conditional GAN",
    NeurIPS 2019, section 4.2.

    Parameters
    ----------
    max_modes : int, default=10
        Largest number of mixture components per column. Fewer are fitted
        when a column has fewer distinct values.
    weight_threshold : float, default=0.005
        Components whose mixture weight is not above this value are dropped.
        The heaviest component is always kept.
    subsample : int or None, default=10_000
        The mixture of a column is fitted on at most this many values, drawn
        without replacement; ``None`` fits on every value. Fitting cost grows
        linearly with it (about a second per column at 10,000 values on one
        core), while the modes of a column are already well located from a
        few thousand values. The column's range is always taken from all
        values.
    max_iter : int, default=100
        Largest number of variational EM iterations per mixture. A mixture
        that has not converged still encodes and decodes exactly; it may
        only place its modes less well.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsampling and the mixtures' initialisation.

    Attributes
    ----------
    means_ : list of ndarray of shape (n_modes_[j],)
        Means of the kept modes of every column, in increasing order.
    stds_ : list of ndarray of shape (n_modes_[j],)
        Scales of the kept modes: the component's standard deviation,
        widened where needed so that every value of the fitted range encodes
        to a scalar within ``[-1, 1]``. A mode that also has to represent
        values of a dropped component, or of a column with few distinct
        values, is widened; others keep the mixture's value.
    mixture_stds_ : list of ndarray of shape (n_modes_[j],)
        Standard deviations of the kept mixture components, used to pick a
        value's mode.
    weights_ : list of ndarray of shape (n_modes_[j],)
        Mixture weights of the kept modes (not renormalised).
    n_modes_ : ndarray of shape (n_features,)
        Number of kept modes of every column.
    output_widths_ : ndarray of shape (n_features,)
        Number of output columns of every input column, ``1 + n_modes_``.
    data_min_ : ndarray of shape (n_features,)
        Smallest value of every column seen in ``fit``.
    data_max_ : ndarray of shape (n_features,)
        Largest value of every column seen in ``fit``.
    n_iter_ : int
        Largest number of EM iterations any column's mixture ran; 0 when no
        mixture was fitted (every column constant).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the columns seen in ``fit``, when they are all strings.

    See Also
    --------
    cfexplain.preprocessing.TabularEncoder : Encodes whole mixed-type tables,
        using this transformer for numerical columns by default.

    Notes
    -----
    **Mode choice.** CTGAN samples a value's mode from the mixture's
    posterior. :meth:`transform` takes the mode of largest posterior
    instead, so that a row's encoding never depends on random draws or on
    the other rows of the batch, as scikit-learn transformers must.

    **Range.** Kept modes are widened after fitting (see ``stds_``) so that
    every value between ``data_min_`` and ``data_max_`` encodes to a scalar
    in ``[-1, 1]``, the range of the ``tanh`` a generator puts on it. This is
    what makes ``inverse_transform(transform(X))`` return ``X`` (up to
    floating point rounding) for values inside the fitted range. Values
    outside it may give scalars beyond ``[-1, 1]``; :meth:`inverse_transform`
    clips scalars to ``[-1, 1]`` as CTGAN does, so they come back at the
    reach of their mode.

    **Constant columns** get one mode at the constant with unit scale.

    Mixtures are fitted on each column standardised by its mean and
    standard deviation, so the mixture's fixed covariance regularisation acts
    the same at every scale of the data.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.preprocessing import ModeSpecificNormalizer
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, 200), rng.normal(50, 5, 200)])
    >>> normalizer = ModeSpecificNormalizer(random_state=0).fit(X[:, None])
    >>> Xt = normalizer.transform(X[:, None])
    >>> Xt.shape[1] == 1 + int(normalizer.n_modes_[0])
    True
    >>> bool(np.abs(Xt[:, 0]).max() <= 1)
    True
    >>> np.allclose(normalizer.inverse_transform(Xt)[:, 0], X)
    True
    """

    def __init__(
        self,
        *,
        max_modes=10,
        weight_threshold=0.005,
        subsample=10_000,
        max_iter=100,
        random_state=None,
    ):
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.subsample = subsample
        self.max_iter = max_iter
        self.random_state = random_state

    def _validate_params(self):
        check_scalar(self.max_modes, "max_modes", numbers.Integral, min_val=1)
        check_scalar(
            self.weight_threshold,
            "weight_threshold",
            numbers.Real,
            min_val=0.0,
            max_val=1.0,
            include_boundaries="left",
        )
        if self.subsample is not None:
            check_scalar(self.subsample, "subsample", numbers.Integral, min_val=1)
        check_scalar(self.max_iter, "max_iter", numbers.Integral, min_val=1)

    def fit(self, X, y=None):
        """Fit one Gaussian mixture per column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numerical data; NaN and infinite values are rejected.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : ModeSpecificNormalizer
            The fitted transformer.
        """
        self._validate_params()
        try:
            X = validate_data(self, X, dtype=np.float64, reset=True)
        except InvalidDataError:
            raise
        except ValueError as error:
            raise InvalidDataError(str(error)) from error
        rng = check_random_state(self.random_state)
        fitted = [
            self._fit_column(X[:, j], int(rng.randint(_SEED_BOUND)))
            for j in range(X.shape[1])
        ]
        self.means_ = [column["means"] for column in fitted]
        self.stds_ = [column["stds"] for column in fitted]
        self.mixture_stds_ = [column["mixture_stds"] for column in fitted]
        self.weights_ = [column["weights"] for column in fitted]
        self.n_modes_ = np.array([len(m) for m in self.means_], dtype=np.intp)
        self.output_widths_ = 1 + self.n_modes_
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.n_iter_ = max(column["n_iter"] for column in fitted)
        return self

    def _fit_column(self, x, seed):
        low, high = float(x.min()), float(x.max())
        if low == high:
            one = np.ones(1)
            return {
                "means": np.array([low]),
                "stds": one,
                "mixture_stds": one.copy(),
                "weights": one.copy(),
                "n_iter": 0,
            }
        sample = x
        if self.subsample is not None and x.shape[0] > self.subsample:
            sample_rng = check_random_state(seed)
            sample = x[sample_rng.choice(x.shape[0], self.subsample, replace=False)]
        # Standardise before fitting, in units of the column's largest
        # magnitude so that neither huge nor tiny values overflow on the way.
        unit = max(abs(low), abs(high))
        center = float(np.mean(sample / unit))
        scale = float(np.std(x / unit))
        if not scale > 0:
            scale = (high - low) / unit
        z = ((sample / unit - center) / scale)[:, None]
        # A mixture needs at least as many distinct points as components;
        # k-means initialisation warns otherwise.
        n_components = int(min(self.max_modes, np.unique(z).shape[0]))
        mixture = BayesianGaussianMixture(
            n_components=n_components,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001,
            n_init=1,
            max_iter=self.max_iter,
            random_state=seed,
        )
        # max_iter bounds fitting time; an unconverged mixture still encodes
        # every value exactly (see the class notes), so the warning would only
        # be noise to users.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture.fit(z)
        kept = mixture.weights_ > self.weight_threshold
        kept[np.argmax(mixture.weights_)] = True
        means = (mixture.means_[kept, 0] * scale + center) * unit
        mixture_stds = np.sqrt(mixture.covariances_[kept, 0, 0]) * scale * unit
        weights = mixture.weights_[kept]
        order = np.argsort(means, kind="stable")
        means, mixture_stds, weights = means[order], mixture_stds[order], weights[order]
        stds = self._widen(means, mixture_stds, weights, sample, low, high)
        return {
            "means": means,
            "stds": stds,
            "mixture_stds": mixture_stds,
            "weights": weights,
            "n_iter": int(mixture.n_iter_),
        }

    @staticmethod
    def _widen(means, mixture_stds, weights, sample, low, high):
        """Scale every mode so that the values it is chosen for fit in [-1, 1].

        The values a mode is chosen for form intervals of the fitted range
        bounded by points where the posterior argmax changes. Evaluating the
        argmax on a fine grid plus every distinct fitted value, the true
        boundary of a mode's interval lies between one of its points and the
        next point, so the largest distance from the mode's mean to its points
        and their neighbours bounds its reach.
        """
        points = np.unique(np.concatenate([np.linspace(low, high, _GRID_SIZE), sample]))
        modes = _most_probable_mode(points, weights, means, mixture_stds)
        reach = np.zeros_like(means)
        positions = np.arange(points.shape[0])
        for offset in (-1, 0, 1):
            neighbour = points[np.clip(positions + offset, 0, points.shape[0] - 1)]
            np.maximum.at(reach, modes, np.abs(neighbour - means[modes]))
        return np.maximum(mixture_stds, reach / _STD_MULTIPLIER)

    def transform(self, X):
        """Encode every value as a scalar and the one-hot of its mode.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numerical data; NaN and infinite values are rejected.

        Returns
        -------
        ndarray of shape (n_samples, n_encoded)
            For every input column in turn, the scalar then the one-hot of
            the mode of largest posterior, in float64.
        """
        check_is_fitted(self)
        try:
            X = validate_data(
                self, X, dtype=np.float64, reset=False, ensure_min_samples=0
            )
        except InvalidDataError:
            raise
        except ValueError as error:
            raise InvalidDataError(str(error)) from error
        n_samples = X.shape[0]
        Xt = np.zeros((n_samples, int(self.output_widths_.sum())))
        rows = np.arange(n_samples)
        start = 0
        for j in range(self.n_features_in_):
            x = X[:, j]
            mode = _most_probable_mode(
                x, self.weights_[j], self.means_[j], self.mixture_stds_[j]
            )
            Xt[:, start] = (x - self.means_[j][mode]) / (
                _STD_MULTIPLIER * self.stds_[j][mode]
            )
            Xt[rows, start + 1 + mode] = 1.0
            start += int(self.output_widths_[j])
        return Xt

    def inverse_transform(self, X):
        """Decode scalars and mode scores back to values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_encoded)
            Encoded data, or any float scores of that width: in every block
            the mode is the argmax of the (possibly soft or unnormalised)
            mode scores, and the scalar is clipped to ``[-1, 1]`` as CTGAN
            does. Infinite values are allowed; NaN is not.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Decoded values, in float64.

        Raises
        ------
        InvalidDataError
            If ``X`` has the wrong number of columns or contains NaN.
        """
        check_is_fitted(self)
        X = check_array(
            X, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=0
        )
        width = int(self.output_widths_.sum())
        if X.shape[1] != width:
            raise InvalidDataError(
                f"the encoded data has {X.shape[1]} columns, but this "
                f"{type(self).__name__} produces {width}"
            )
        if np.isnan(X).any():
            row, column = np.argwhere(np.isnan(X))[0]
            raise InvalidDataError(
                f"the encoded data contains NaN (row {row}, column {column})"
            )
        values = np.empty((X.shape[0], self.n_features_in_))
        start = 0
        for j in range(self.n_features_in_):
            stop = start + int(self.output_widths_[j])
            mode = np.argmax(X[:, start + 1 : stop], axis=1)
            scalar = np.clip(X[:, start], -1.0, 1.0)
            values[:, j] = (
                scalar * _STD_MULTIPLIER * self.stds_[j][mode] + self.means_[j][mode]
            )
            start = stop
        return values

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        ndarray of object
            For every input column ``name``: ``name`` for the scalar, then
            ``name_mode_0``, ``name_mode_1``, ... for its modes.
        """
        check_is_fitted(self)
        names = resolve_feature_names(self, input_features)
        out = []
        for name, n_modes in zip(names, self.n_modes_, strict=True):
            out.append(str(name))
            out.extend(f"{name}_mode_{k}" for k in range(n_modes))
        return np.asarray(out, dtype=object)
