"""Parameter and attribute text the explainers share, written once.

An estimator's docstring names a shared entry as ``{shared.NAME}`` on a line
of its own (indented as a parameter entry); :func:`fill_shared_docs` puts
the text in when the class is defined, as imbalanced-learn's
``Substitution`` does. Text that differs between explainers stays in their
own docstrings.
"""

from __future__ import annotations

import re
import textwrap

__all__ = ["fill_shared_docs"]

_SHARED = {
    "predictor": """
predictor : estimator, callable or torch.nn.Module, default=None
    The model under explanation, when not given to :meth:`fit`. Kept by
    reference by ``clone``.""",
    "modality": """
modality : {"auto", "tabular", "image", "series"}, default="auto"
    The kind of data. ``"auto"`` takes a DataFrame or a 2-D array as a table
    and a 4-D array ``(n, channels, height, width)`` as images; it refuses a
    3-D array, which could hold series ``(n_cases, n_channels,
    n_timepoints)`` or images ``(n, height, width)``: say which.""",
    "constraints": """
immutable : list of str, dict or array of bool, default=None
    Features that must never change (tables); a boolean mask of the values
    to keep, of one image's shape as given to ``fit`` (images) or of one
    series' ``(n_channels, n_timepoints)``; or, for series,
    ``{"channels": [...], "windows": [(start, stop), ...]}``.
bounds : dict, default=None
    ``{feature: (low, high)}`` for numerical features of a table;
    ``{channel: (low, high)}`` amplitude bounds for series.
monotonic : dict, default=None
    ``{feature: "increasing" | "decreasing"}`` for numerical features of a
    table, and for categorical ones fitted as an ordered ``category`` dtype
    (in the order of their categories).""",
    "surrogate": """
surrogate_hidden : tuple of int, default=(128, 128)
    Hidden widths of the surrogate of a black-box model.
surrogate_epochs : int or "auto", default="auto"
    Epochs of the surrogate's initial training. ``"auto"`` is the fewest
    epochs that make at least 6,000 optimiser steps of 512 rows, between 1
    and 20: 20 on tables of up to about 200,000 rows, 4 on a million (where
    20 epochs were 31,000 steps; a GAN's fit took 126 s with 20 and 76 s
    with 4, the generator as valid: ``benchmarks/fit_scale.py``).
    ``surrogate_.max_epochs_`` holds what was used.
surrogate_refresh_every : int or "auto", default="auto"
    Epochs between two relabellings of generated rows by the real model
    (at the end of an epoch); 0 disables them. ``"auto"`` is ``round(50 /
    steps per epoch)``, at most a tenth of the epochs and at least 1: every
    epoch on Adult and on large tables, every few epochs on small ones.
surrogate_refresh_rows : int, default=1024
    Rows generated and relabelled per refresh.""",
    "budget": """
max_epochs : int or "auto", default="auto"
    Training epochs. ``"auto"`` trains about as many optimiser steps as
    30 epochs of the paper's batch on Adult's 26,000 rows did (within about
    two minutes on two CPU cores), whatever the size of the data: more
    epochs on small tables, fewer on large ones (at least 1, at most 1,000).
    On images the autoencoders train 30 epochs of the paper's batch, since
    a convolutional step costs far more; on fewer than 3,600 images they
    train as many steps as 30 epochs of 3,600 would be (the MNIST
    sample's training set, the smallest they were benchmarked on). The
    resolved value is ``max_epochs_``.
batch_size : int or "auto", default="auto"
    Rows per optimiser step. ``"auto"`` is ``n_rows // 16``, at least 32
    and at most the paper's batch, so small tables still get many steps.
    The resolved value is ``batch_size_``.""",
    "closed_loop": """
max_rounds : {0, 1, 2}, default=2
    Repairs given to the counterfactuals the real model rejects (in
    :meth:`transform`, :meth:`explain`, :meth:`score` and the self-check),
    each one batched round over the rows still rejected: 1 applies the
    generator to its own output, 2 also moves the original towards its
    nearest training row of the target class, feature by feature, then
    gives back the changes the model does not need (tables; the fitted
    explainer keeps up to 5,000 encoded training rows for it in
    ``reference_``; series copy a window of the nearest training series
    instead). With 2, tables take the path first and the generator's
    second step only where the path leaves a row rejected (on Adult the
    path answered most of the generator's rows anyway, faster and
    sparser); series take the generator's step first. With 2 (and with
    ``training_row_candidates``), a table's rows still rejected then get a
    greedy search of their free features (up to 4 steps of one model
    call: each free feature at a few values training rows hold, the
    change nearest the target kept while it comes nearer; a row reached
    gives back any one change the model does not need), which finds small
    changes no training row of the target class shows: under immutable
    features on COMPAS it reached the 8 to 12 rows of 500 the path had
    left to a logistic regression and boosted trees. Rows still
    rejected are reported by an
    :class:`~cfexplain.UnreachedTargetWarning` from :meth:`transform` and by
    ``explain``'s ``valid`` mask. 0 returns the generator's answers as they
    are (and, with ``training_row_candidates``, the path's where cheaper);
    :meth:`transform` still calls the model once on them to report the
    rows that miss their target.
training_row_candidates : bool or "auto", default="auto"
    Whether every row (not only the rejected ones) also gets the
    training-row path's counterfactual as a second candidate, the answer
    being the valid one with the lower cost. On tables both the path's
    answer and the generator's are also tried with each number moved only
    part of its way (eighths of the move, the shortest the model accepts
    kept): a network's numbers overshoot the model's boundary (in a
    new-user trial, 41 % of the answers that changed one number set it to
    its training minimum). Measured on German credit, breast cancer and a
    synthetic zip-code table (GAN and AE, a logistic regression, a
    RandomForest and boosted trees; 9 cells) against the path's answers
    alone tried in quarters: L1 fell by 0-9 % (median 4.7 %), the median
    overshoot of answers changing one number from 1.2-2.4 to 1.1-1.7 times
    the move the model needs, for up to a third of the throughput. The
    cost is the L1 distance moved on the encoding plus the mean L1
    distance to the 10 nearest training rows of the target class (a
    realism critic in the same units). Tables and
    series; images have no training-row path and ignore it. Slower, since
    every row takes a path's model calls, and more realistic where the
    generator's answers leave the target class's modes: on Adult (GAN and
    AE, an MLP and boosted trees) the class-1 MMD² fell from 0.044-0.096 to
    0.031-0.037 (L1 0.25-0.27 instead of 0.30-0.39; the class-0 MMD² rose
    from 0.048-0.081 to 0.069-0.074), and transform from 30,000-54,000 to
    11,000-15,500 rows/s; on an all-numeric table (breast
    cancer) it cut L1 but raised the class MMD², since numbers copied from
    a neighbour break the correlations the generator keeps. Check the
    metrics on your own data. For a regression target, each row also gets
    a third candidate: the smallest move of one number that puts the
    model's output on the target, by a line search of each free number
    (its training quantiles, then bisection where the output crosses the
    target; :mod:`cfexplain._line_search`), since copied values seldom
    land inside a value's narrow band: on scikit-learn's diabetes data
    (GAN and AE, a Ridge pipeline, a value target) the answers changed
    1.4 features instead of 4.5 and moved 1.9 standard deviations
    instead of 4.8 (a RandomForest: 3.0 features instead of 5.4), at
    about half the throughput.
    ``"auto"`` turns it on for tables of at most 10,000 rows given to
    ``fit`` (``training_row_candidates_`` says what ``fit`` chose) and off
    for larger tables, series and images: a generator trained on a small
    table makes less sparse answers, and the extra model calls cost little
    at that size. On COMPAS (4,937 training rows; GAN and AE for a logistic
    regression, a RandomForest and boosted trees, 500 test rows) it
    lowered L1 in every cell, from 0.14-0.42 to 0.11-0.25, and the mean
    number of features changed from 1.13-1.83 to 1.13-1.24, at 2,600-5,800
    rows/s instead of 4,900-14,600; on scikit-learn's wine data (133
    training rows, the GAN for boosted trees) from 5.4 to 1.9 features.
    On Adult (26,048 rows) it stays off.
    When it is on, fit stores up to 5,000 encoded training rows in
    ``reference_`` (as it does for ``max_rounds=2``); set it before fit.
plausible_categories : bool, default=True
    Tables: whether a counterfactual the model accepts must also bring in
    no pair of category values that the training rows lack although their
    frequencies would put it in five rows or more ("lack": hold in none,
    or in under 1 % of the rows those frequencies predict, as Adult's
    single male "Wife" where 819 are expected; a pair its original holds
    does not count). Answers that do go through the repairs, and keep
    their answer where no repair is both valid and plausible
    (:mod:`cfexplain._plausibility`); training rows that hold such a pair
    are left out of the repairs' pool at fit. Without the check, 6.9 % of
    the GAN's and 27 % of the AE's Adult counterfactuals (MLP, defaults)
    hold such a pair (21 % of the AE's a rare one), nearly all a marital
    status changed while the relationship stayed (a "Never-Married"
    "Husband", a "Married" spouse "Not-in-family"); with it, under 0.05 %
    do, for about 12 % of the GAN's transform speed and a fifth of the
    AE's (README, Adult benchmarks). A number pairs with categories
    through its range (up to 20 quantile ranges of its training values):
    a 27-year-old in the age category "Less than 25" is such a pair on
    COMPAS, where the answers that moved the age or its category were
    69-96 % consistent without ranges and all with them. Other modalities
    ignore it.
handle_unknown : {"error", "warn"}, default="error"
    What :meth:`transform` and :meth:`explain` do with rows of a table that
    hold a category ``fit`` did not see (a new zip code), for which no
    counterfactual can be generated. ``"error"`` refuses the call with an
    :class:`~cfexplain.InvalidDataError` naming the first such row and the
    fix (``X[explainer.encoder_.known_category_rows(X)]`` keeps the others).
    ``"warn"`` explains the other rows and reports these with an
    :class:`~cfexplain.UnseenCategoryWarning`: ``transform`` returns them
    unchanged, ``explain`` leaves them out. ``score`` and the scorers of
    :mod:`cfexplain.metrics` leave them out either way. The names follow
    scikit-learn's ``OneHotEncoder``.
validation_fraction : float, default=0.1
    Share of the training rows (at most 2,000) held out of training for
    the self-check at the end of :meth:`fit`, which stores the validity
    reached with the real model in ``fit_report_`` and warns with a
    :class:`~cfexplain.LowValidityWarning` below 0.9. With 0, or a share
    that rounds to no row or leaves fewer than 2 to train on, the
    self-check uses training rows (``fit_report_["held_out"]`` is then
    False). On small data few rows are held out (5 of 50
    series at 0.1), and their validity is a rough estimate: on GunPoint
    the AE's 5 held-out series were all valid while 89 % of the test
    series were; hold out more rows, or check on your own, when the data
    are that small.
chunk_size : int or "auto", default="auto"
    Rows :meth:`transform` encodes, generates, decodes and checks at a time,
    so its memory does not grow with the number of rows; the answer is the
    same for any chunk size, up to float rounding where the model's own
    kernels depend on the batch (a user's 1-D CNN moved series values by
    4e-7). ``"auto"`` takes about 16 million encoded
    values a chunk, between 1,024 and 32,768 rows (32,768 rows of Adult,
    about 21,000 MNIST images).""",
    "regression_tolerance": """
regression_tolerance : float, default=0.05
    For a regression value target, the accepted distance in standard
    deviations of the model's outputs on the training rows.""",
    "numeric_tolerance": """
numeric_tolerance : float, default=0.05
    Numbers (tables: in training standard deviations; images: in units of
    the full grey range) that moved at most this much get their original
    value back: such changes are noise of the network's continuous outputs,
    not explanations. On tables, so does a number whose move, of at most
    one training standard deviation, reaches no value the training rows
    hold (Capital Loss 0 -> 29 on Adult, whose smallest non-zero loss is 155): in
    rank terms it did not move. 0 keeps the raw outputs. The training-row path's
    copies keep their values (they are a real row's, and the path gives
    back every change the model does not need): reverted, a copy of a
    row just across the model's boundary fell back short of it.""",
    "training": """
device : str, default="auto"
    ``"auto"`` (CUDA, then MPS, then CPU) or a torch device string. On
    CUDA, cuDNN runs its deterministic algorithms in full float32 while
    the explainer works, so a seed reproduces a fit and an answer does not
    depend on its batch. An explainer fit on a GPU unpickles on a machine
    without one (on the CPU, with a warning), unless the model it explains
    is a torch module on the GPU: that module is pickled as it is.
random_state : int, RandomState instance or None, default=None
    Seeds the encoder, the networks, training and sampling. Global random
    number generators are left untouched.
verbose : int, default=0
    skorch's progress output per epoch when positive.
callbacks : list of skorch callbacks, default=None
    Extra skorch callbacks (e.g. ``EarlyStopping(monitor="train_loss")``).""",
    "fitted": """
fit_report_ : dict
    The fit-time self-check, measured with the real model: validity of the
    counterfactuals of the held-out rows for each kind of target trained for
    (``validity_opposite``, ``validity_other_class``; for regression
    ``validity_value``, ``validity_interval``), the same without the
    transform-time repairs (``generator_validity_*``), and, when the
    explainer trained a surrogate of the model (not the CVAE on tables, which
    trains without the model's gradients), the surrogate's agreement with
    the model on the rows (``surrogate_agreement``; for classifiers also
    ``surrogate_balanced_agreement``, averaged over the classes the model
    predicts, which a rare class cannot hide in) and on their
    counterfactuals (``surrogate_agreement_counterfactuals``). For a
    classifier given by its ``predict_proba`` or ``decision_function``
    whose owner has ``predict``,
    the share of the counterfactuals (``predict_agreement_counterfactuals``)
    and of the rows (``predict_agreement``) on whose class ``predict``
    agrees (:class:`~cfexplain.PredictMismatchWarning`).
    Also recorded in ``net_.history[-1]`` as ``fit_*``.
reference_ : ReferenceRows or None
    Up to 5,000 encoded training rows and the model's outputs on them, the
    pool of the training-row repairs (``None`` when they cannot run).
training_row_candidates_ : bool
    Whether every row also gets the training-row path's answer: the
    ``training_row_candidates`` parameter, or what ``fit`` chose for
    ``"auto"``. Setting the parameter to True or False after ``fit``
    takes effect at once; ``"auto"`` stands for this choice of the last
    ``fit``.
max_epochs_, batch_size_ : int
    The training budget used.
predictor_ : object
    The checked wrapper around the model under explanation.
classes_ : numpy.ndarray or None
    The model's class labels (classification).
output_mean_, output_scale_ : float
    Mean and standard deviation of the model's values on the training rows
    (regression), which scale the generator's targets.
output_range_ : tuple of float
    The lowest and highest of those values (regression): a target outside
    them is out of reach, and ``transform``'s warning says so; the open side
    of a half-open interval target is closed there for the generator.
modality_ : str
    The kind of data seen in fit (``"tabular"``, ``"image"``, ``"series"``).
adapter_ : ModalityAdapter
    What the explainer knows about its kind of data (checks, encoder,
    constraints); see :mod:`cfexplain.modalities`.
device_ : str
    The device used.
n_features_in_ : int
    Number of features (or values per image) seen in fit.
feature_names_in_ : numpy.ndarray
    Their names, when ``X`` was a DataFrame with string column names.
feature_dtypes_in_ : pandas.Series
    The dtype of each column, as ``X.dtypes``, when ``X`` was a DataFrame:
    what a CSV reader needs to rebuild rows like the training rows.""",
    "example": """
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from cfexplain import {name}
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 3))
>>> clf = LogisticRegression().fit(X, X.sum(axis=1) > 0)
>>> cf = {name}(max_epochs=2, random_state=0).fit(X, clf)
>>> X_cf = cf.transform(X[:4])
>>> X_cf.shape
(4, 3)""",
}

_TOKEN = re.compile(r"^( *)\{shared\.(\w+)\}$", flags=re.MULTILINE)


def fill_shared_docs(cls):
    """Replace the ``{shared.NAME}`` lines of a class docstring; a class decorator.

    Parameters
    ----------
    cls : type
        An explainer class.

    Returns
    -------
    type
        The same class, its docstring filled in.

    Raises
    ------
    KeyError
        For a name that has no shared text.
    """

    def fill(match):
        indent, name = match.groups()
        text = _SHARED[name].strip("\n").replace("{name}", cls.__name__)
        return textwrap.indent(text, indent)

    cls.__doc__ = _TOKEN.sub(fill, cls.__doc__)
    return cls
