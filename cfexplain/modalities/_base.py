"""The protocol every modality adapter follows.

An adapter is everything the estimator needs to know about one kind of data
(tables, images, time series): how to check it, which encoder turns it into
float rows, how constraints are parsed and applied, how negligible changes
are reverted, how changes are described and plotted, and how rows are taken
and stacked. :class:`~cfexplain._base.BaseCounterfactualExplainer` talks to
its adapter only through these hooks, so it has no branch on the modality.

One adapter instance is made per ``fit`` and stored as ``adapter_``; its
fitted state (the encoder, per-feature statistics) ends in ``_`` like an
estimator's.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ArrayAdapter", "ModalityAdapter"]


class ModalityAdapter:
    """Base class of the modality adapters; not for direct use.

    Subclasses set :attr:`name` and implement every method that raises
    ``NotImplementedError`` here. Methods that do not depend on fitted state
    are static or class methods, so :class:`~cfexplain.Explanation` can use
    them without an adapter instance.

    Attributes
    ----------
    name : str
        The modality, as the estimators' ``modality`` parameter spells it.
    encoder_ : object
        The fitted encoder (after :meth:`fit`).
    feature_of_column_ : numpy.ndarray of int, shape (n_encoded,)
        Original feature of each encoded column (after :meth:`fit`).
    feature_dtypes_ : pandas.Series or None
        Dtype of each named input column, as ``X.dtypes`` of the frame given
        to :meth:`fit`; ``None`` for other input.
    """

    name = "abstract"

    feature_dtypes_ = None

    #: Whether generators read a mask of frozen features (trained on random
    #: masks, so ``immutable`` works without retraining); otherwise
    #: constraints are only applied to the decoded output.
    learns_frozen_masks = False

    #: ``max_epochs="auto"`` for this modality: ``None`` trains a fixed number
    #: of optimiser steps (cheap steps: tables); a number trains that many
    #: epochs of the paper's batch (costly steps: convolutional networks).
    auto_epochs = None

    #: With ``auto_epochs``: a smaller training set still gets the optimiser
    #: steps of ``auto_epochs`` epochs of this many rows (``None``: no floor).
    auto_epochs_min_rows = None

    #: ``batch_size="auto"`` for this modality: ``None`` scales the batch
    #: with the data (tables) or takes the estimator's reference batch when
    #: ``auto_epochs`` is set; a number is the paper's batch for this kind of
    #: data (series: recurrent steps are costly, so small batches train best
    #: per second).
    auto_batch_size = None

    #: How the training-row repair moves a rejected counterfactual's original
    #: towards a training row of the target class: ``"features"`` copies
    #: named features one at a time (tables, whose adapter also has
    #: ``shorten_numeric_moves`` and ``mix_rows``), ``"windows"`` a window of time
    #: points (series); ``None`` skips that repair (images: pixels are no
    #: features a user would read, and a patch pasted from another image is
    #: no realistic counterfactual).
    training_row_path = None

    # -- input -------------------------------------------------------------------------

    def check_input(self, estimator, X, *, reset):
        """Validate ``X`` and return it in the adapter's row format.

        With ``reset=True`` (in ``fit``) it sets the estimator's
        ``n_features_in_`` (and ``feature_names_in_`` where it applies);
        otherwise it checks ``X`` against them and the fitted encoder.

        Parameters
        ----------
        estimator : BaseCounterfactualExplainer
            The explainer being fitted or used.
        X : object
            What the user passed.
        reset : bool
            Whether this is ``fit``.

        Returns
        -------
        object
            The checked input in the format the model and the encoder take
            (for tables, an array when ``fit`` was given one).

        Raises
        ------
        InvalidDataError
            For input this modality cannot take.
        """
        raise NotImplementedError

    def make_encoder(self, random_state):
        """Return an unfitted encoder for this modality.

        Parameters
        ----------
        random_state : int
            Seed for encoders that draw random numbers.

        Returns
        -------
        object
            A scikit-learn transformer with ``layout_`` and
            ``inverse_transform``.
        """
        raise NotImplementedError

    def as_rows(self, X_checked):
        """Return checked input in the adapter's row format.

        Tables are DataFrames (arrays get the names ``x0, x1, ...``); images
        and series are arrays, returned as they are.

        Parameters
        ----------
        X_checked : object
            Output of :meth:`check_input`.

        Returns
        -------
        object
        """
        return X_checked

    def fit(self, X_checked, encoder):
        """Learn what the other hooks need from the training rows.

        Parameters
        ----------
        X_checked : object
            Checked training input (from :meth:`check_input`).
        encoder : object
            The fitted encoder the estimator uses.

        Returns
        -------
        self
        """
        raise NotImplementedError

    # -- the networks' view ------------------------------------------------------------

    def network_arguments(self):
        """Return the arguments the torch modules of this modality need.

        Returns
        -------
        dict
            Passed to the module constructors (e.g. ``{"image_shape": (1, 28,
            28)}``); empty when the layout is enough.
        """
        return {}

    def loss_arguments(self):
        """Return what the nets' sparsity loss needs to measure this modality.

        Returns
        -------
        dict
            Net parameters (e.g. how numbers decode, for tables); empty when
            the encoded values are compared as they are.
        """
        return {}

    def torch_view(self, module):
        """Wrap a torch model that takes the user's tensors to take encoded rows.

        Parameters
        ----------
        module : torch.nn.Module
            The user's network, taking tensors in the input's own layout.

        Returns
        -------
        torch.nn.Module or None
            A module on encoded rows, or ``None`` when this modality has no
            tensor layout a torch model could take (tables: the model is a
            black box and gets a surrogate).
        """
        return None

    # -- rows --------------------------------------------------------------------------

    @staticmethod
    def take_rows(rows, positions):
        """Select rows by position (arrays; frames override).

        Parameters
        ----------
        rows : numpy.ndarray
        positions : array-like of int

        Returns
        -------
        numpy.ndarray
        """
        return rows[positions]

    @staticmethod
    def equal_rows(rows, other):
        """Flag the rows of two aligned batches that hold the same values.

        Parameters
        ----------
        rows, other : numpy.ndarray
            Batches of the same length (arrays; frames override).

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
            NaN equals nothing.
        """
        n = len(rows)
        return (
            np.asarray(rows).reshape(n, -1) == np.asarray(other).reshape(n, -1)
        ).all(axis=1)

    @staticmethod
    def stack_rows(parts):
        """Concatenate batches of rows (arrays; frames override).

        Parameters
        ----------
        parts : list of numpy.ndarray

        Returns
        -------
        numpy.ndarray
        """
        return np.concatenate(parts)

    @staticmethod
    def renumber(rows):
        """Return rows numbered ``0..n-1`` (arrays are returned as they are)."""
        return rows

    def replace_rows(self, rows, positions, replacement):
        """Return ``rows`` with the rows at ``positions`` taken from ``replacement``.

        Parameters
        ----------
        rows : object
            Rows in the adapter's format.
        positions : numpy.ndarray of int
            Distinct positions in ``rows``.
        replacement : object
            One row per position, in the same order.

        Returns
        -------
        object
            A new batch; row labels (a frame's index) travel with the rows.
        """
        if not len(positions):
            return rows
        # One stack and one take: row i comes from `rows`, or from the
        # replacement's row j where positions[j] == i.
        n_rows = len(rows)
        source = np.arange(n_rows)
        source[positions] = n_rows + np.arange(len(positions))
        return self.take_rows(self.stack_rows([rows, replacement]), source)

    def in_fit_format(self, rows):
        """Return rows in the format ``fit`` was given.

        What the encoder and the model under explanation were fitted on:
        the model is always called in this format, whatever the format of
        a later call's input.

        Parameters
        ----------
        rows : object
            Rows in the adapter's format.

        Returns
        -------
        object
        """
        return rows

    def as_fitted_type(self, estimator, X):
        """Return ``X`` as the type ``fit`` was given where it reads another so.

        ``transform`` and ``explain`` call it first, so that everything
        after (the answers' type, their index, the rows left unchanged)
        treats the input as what it is read as. The default returns ``X``.

        Parameters
        ----------
        estimator : BaseCounterfactualExplainer
            The fitted explainer (scikit-learn's input checks read it).
        X : object
            What the user passed.

        Returns
        -------
        object
        """
        return X

    def to_user(self, X, rows):
        """Return ``rows`` in the type the user passed as ``X``.

        Parameters
        ----------
        X : object
            What the user passed.
        rows : object
            Rows in the adapter's format.

        Returns
        -------
        object
        """
        return rows

    def decode(self, Xt, originals):
        """Decode encoded rows into the adapter's format, aligned with ``originals``.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n, n_encoded)
            Encoded rows (network output).
        originals : object
            The rows they answer, in the adapter's format (for the index).

        Returns
        -------
        object
        """
        raise NotImplementedError

    # -- constraints and clean-up ------------------------------------------------------

    def parse_constraints(self, immutable, bounds, monotonic):
        """Check user constraints against the fitted data.

        Parameters
        ----------
        immutable, bounds, monotonic : object
            As given to the estimator.

        Returns
        -------
        object
            With ``frozen_features()``, a float32 vector of one flag per
            original feature, and ``apply(X, X_cf)``, which corrects decoded
            counterfactuals in place and returns them.

        Raises
        ------
        ValueError
            For constraints this modality cannot take.
        """
        raise NotImplementedError

    def plausibility_keys(self, Xt):
        """Return what :meth:`introduced_implausibility` compares originals by.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n, n_encoded)
            The originals as the encoder encoded them.

        Returns
        -------
        numpy.ndarray of shape (n, ...) or None
            ``None`` (the default): this modality checks nothing. Tables:
            the rows' category codes.
        """
        return None

    def implausible_keys(self, keys):
        """Flag rows whose own keys hold what the training data lack.

        Fit keeps such training rows out of the training-row path's pool:
        a path towards one would bring in what the check rejects.

        Parameters
        ----------
        keys : numpy.ndarray of shape (n, ...)
            :meth:`plausibility_keys` of the rows.

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
            All False by default.
        """
        return np.zeros(len(keys), dtype=bool)

    def plausible_reverts(self, original_keys, originals, counterfactuals):
        """Return candidates that give back what made counterfactuals implausible.

        The closed loop's last resort for valid answers still flagged by
        :meth:`introduced_implausibility`.

        Parameters
        ----------
        original_keys : numpy.ndarray of shape (n, ...)
            :meth:`plausibility_keys` of each counterfactual's original.
        originals, counterfactuals : object
            Aligned rows in this adapter's format.

        Returns
        -------
        tuple or None
            ``(owner, candidates)``: for each candidate the position of its
            counterfactual, and the candidates, in order of preference per
            owner; ``None`` (the default) where the modality has none.
        """
        return None

    def introduced_implausibility(self, original_keys, counterfactuals):
        """Flag counterfactuals that bring in what the training data lack.

        The candidate engine accepts a counterfactual when the model puts it
        at its target and it is not flagged here, and repairs the others
        (keeping a flagged valid one when no repair is both). Called only
        where :meth:`plausibility_keys` gave keys.

        Parameters
        ----------
        original_keys : numpy.ndarray of shape (n, ...)
            :meth:`plausibility_keys` of each counterfactual's original.
        counterfactuals : object
            Rows in this adapter's format.

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
        """
        return np.zeros(len(counterfactuals), dtype=bool)

    def keep_unmoved_values(self, originals, counterfactuals, unmoved_columns):
        """Give features whose encoding a candidate kept their original value, in place.

        Decoding a float32 encoding gives float64 numbers back only to about
        1e-7; a feature a candidate did not move (a training-row path's
        features not copied) would otherwise come back a hair off its
        original and read as a change.

        Parameters
        ----------
        originals, counterfactuals : object
            Aligned rows in the adapter's format.
        unmoved_columns : numpy.ndarray of bool, shape (n, n_encoded)
            Where a candidate's encoding equals its original's.
        """

    def outside_training_range(self, rows):
        """Flag numbers outside the range the training rows span.

        The generator learnt nothing beyond that range, and its decoder
        answers within it, so the callers warn (an
        :class:`~cfexplain.OutsideTrainingRangeWarning`).

        Parameters
        ----------
        rows : object
            Originals in the adapter's format.

        Returns
        -------
        numpy.ndarray of bool, shape (n, n_checked), or None
            ``None`` (the default) where the modality checks nothing.
        """
        return None

    def restore_outside_training_range(self, originals, counterfactuals):
        """Give values outside the training range their original value back.

        Parameters
        ----------
        originals, counterfactuals : object
            Aligned rows in the adapter's format.

        Returns
        -------
        tuple or None
            ``(rows, candidates)``: positions of counterfactuals that
            changed such a value and their copies with it restored;
            ``None`` (the default) where the modality has none.
        """
        return None

    def describe_outside_training_range(self, outside):
        """Name what :meth:`outside_training_range` flagged, for a warning.

        Parameters
        ----------
        outside : numpy.ndarray of bool, shape (n, n_checked)
            Its flags, for one call's rows.

        Returns
        -------
        str
        """
        raise NotImplementedError

    def revert_negligible_changes(self, originals, counterfactuals, tolerance):
        """Give values that barely moved their original value back, in place.

        Parameters
        ----------
        originals, counterfactuals : object
            Aligned rows in the adapter's format.
        tolerance : float
            The estimator's ``numeric_tolerance``.
        """
        raise NotImplementedError

    # -- reading the result ------------------------------------------------------------

    @staticmethod
    def changed_features(original, counterfactual):
        """Return which features differ, shape ``(n_rows, n_features)`` of bool."""
        raise NotImplementedError

    @staticmethod
    def describe_changes(original, counterfactual):
        """Return, per row, one human-readable string per change."""
        raise NotImplementedError

    @staticmethod
    def plot(explanation, ax=None):
        """Draw an :class:`~cfexplain.Explanation` of this modality."""
        raise NotImplementedError


def _give_back(counterfactuals, originals, where):
    """Copy the originals' values into ``counterfactuals`` where ``where`` holds.

    Originals given in another dtype than fit's (a float64 series of an
    int64 fit) are cast: numpy refuses to copy them as they are.
    """
    np.copyto(
        counterfactuals,
        np.asarray(originals).astype(counterfactuals.dtype, copy=False),
        where=where,
    )


class ArrayAdapter(ModalityAdapter):
    """Base of the adapters whose rows are arrays of values (images, series).

    Every value is a feature of its own; decoding is the encoder's; a value
    moved by at most ``tolerance`` times :meth:`change_unit` is reverted.
    Subclasses say what the unit is and supply the rest of the protocol.
    """

    @staticmethod
    def as_array(X):
        """Return ``X`` as this modality's array, or raise ``InvalidDataError``."""
        raise NotImplementedError

    def check_input(self, estimator, X, *, reset):
        """Validate the array; at fit, set ``n_features_in_`` to the values per row.

        See :meth:`ModalityAdapter.check_input`; later calls are checked
        against the fitted shape by the encoder.
        """
        if not reset:
            return self.encoder_.check(X)
        array = self.as_array(X)
        estimator.n_features_in_ = int(np.prod(array.shape[1:]))
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return array

    def fit(self, X_checked, encoder):
        """Store the encoder; every value is a feature of its own."""
        self.encoder_ = encoder
        self.feature_of_column_ = np.arange(encoder.layout_.n_columns)
        return self

    def decode(self, Xt, originals):
        """Decode to the fitted shape and dtype."""
        return self.encoder_.inverse_transform(Xt)

    def change_unit(self):
        """Return what ``numeric_tolerance`` is measured in, broadcast to a row."""
        raise NotImplementedError

    def keep_unmoved_values(self, originals, counterfactuals, unmoved_columns):
        """Give values whose encoding a candidate kept their original, in place.

        The encoders flatten each row in C order: column ``j`` is value ``j``.
        """
        _give_back(
            counterfactuals, originals, unmoved_columns.reshape(counterfactuals.shape)
        )

    def revert_negligible_changes(self, originals, counterfactuals, tolerance):
        """Revert values that moved at most ``tolerance`` :meth:`change_unit`'s."""
        if not tolerance:
            return
        moved = np.abs(counterfactuals.astype(float) - originals.astype(float))
        negligible = moved <= tolerance * self.change_unit()
        _give_back(counterfactuals, originals, negligible)

    @staticmethod
    def changed_features(original, counterfactual):
        """Return which values differ, shape ``(n, values per row)``."""
        n = len(original)
        return np.asarray(original).reshape(n, -1) != np.asarray(
            counterfactual
        ).reshape(n, -1)
