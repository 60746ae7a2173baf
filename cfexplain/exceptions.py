"""Exceptions and warnings raised by cfexplain.

Every error that bad user input can trigger derives from :class:`CfexplainError`.
The data, predictor and target errors also derive from :class:`ValueError`, so
code written against scikit-learn's conventions (``except ValueError``) keeps
working. Results that fall short of what was asked (counterfactuals that do not
reach their target) are reported with a :class:`CfexplainWarning`, never hidden.
"""

__all__ = [
    "AmbiguousTargetWarning",
    "CfexplainError",
    "CfexplainWarning",
    "ConstraintError",
    "EncodedCategoriesWarning",
    "ImplausibleCounterfactualWarning",
    "InvalidDataError",
    "LowValidityWarning",
    "NumbersAsTextWarning",
    "OutsideBoundsWarning",
    "OutsideTrainingRangeWarning",
    "PixelScaleWarning",
    "PredictMismatchWarning",
    "PredictorError",
    "TaskGuessWarning",
    "TargetError",
    "TrainingError",
    "UnreachedTargetWarning",
    "UnseenCategoryWarning",
    "WeakGeneratorWarning",
]


class CfexplainError(Exception):
    """Base class of every exception raised on purpose by cfexplain."""


class InvalidDataError(CfexplainError, ValueError):
    """Input data that cfexplain cannot use.

    Raised for missing or extra columns, NaN or infinite values, categories
    unseen during ``fit`` and arrays of the wrong shape. The message names the
    offending column and value.
    """


class PredictorError(CfexplainError, ValueError):
    """The model under explanation is unusable or returned unusable output.

    Raised when the object given as ``predict_fn``/``predictor`` cannot be
    called, fails on valid data, or returns output of the wrong shape, with
    non-finite values, or with probabilities that do not sum to one. The
    message states what was seen and what was expected.
    """


class ConstraintError(CfexplainError, ValueError):
    """Constraints that cannot be read, or that some rows cannot satisfy together.

    Raised for constraints given in the wrong form (an unknown feature or
    channel, bounds with ``low > high``, a monotone direction on a
    categorical feature, a mask that does not fit the input), and for
    constraints that conflict for some rows: for instance a row aged 75
    with ``bounds={"age": (18, 70)}`` and ``monotonic={"age":
    "increasing"}``, or an immutable feature whose original value lies
    outside its bounds. The message names the feature, the rows and the
    constraints. Constraints that hold for every row are applied by
    construction and never raise.
    """


class TargetError(CfexplainError, ValueError):
    """A counterfactual target that cannot be reached or parsed.

    Raised for unknown class labels, probability vectors that do not sum to
    one, per-row targets of the wrong length and intervals with ``low > high``.
    """


class TrainingError(CfexplainError, RuntimeError):
    """Training of a generative network failed, e.g. its losses became NaN."""


class CfexplainWarning(UserWarning):
    """Base class of the warnings cfexplain issues on purpose."""


class TaskGuessWarning(CfexplainWarning):
    """The task of the model under explanation was guessed from its outputs.

    Issued by ``fit`` with ``task="auto"`` when a model that is not a
    scikit-learn regressor returns one value per row that could belong to a
    classifier: whole numbers (class labels?) or values within [0, 1] (the
    probability of one class?). They are taken as regression values. Pass
    ``task`` explicitly, the classifier itself, or a function returning the
    probabilities of every class to say which. Also issued with
    ``task="classification"`` when a torch module returns one value per
    row within [0, 1], as a final sigmoid does: a single output is read as
    a logit.
    """


class LowValidityWarning(CfexplainWarning):
    """A fitted explainer's self-check found too few valid counterfactuals.

    Issued at the end of ``fit`` when fewer than 90 % of the counterfactuals
    of the held-out rows reach their target by the real model
    (``fit_report_`` holds the figures), when the generator alone reaches
    under 10 % of them (as its subclass :class:`WeakGeneratorWarning`), and
    at the start of ``fit`` when the model puts every training row in one
    class, or none in some class it has.
    """


class WeakGeneratorWarning(LowValidityWarning):
    """The counterfactuals are valid, but the generator alone made few of them.

    Issued at the end of ``fit`` when the self-check's counterfactuals reach
    their target (90 % or more) but the generator, before the closed loop's
    repairs, reaches under 10 % of them: the answers are then mostly built
    from training rows, at the cost of more model calls, and a larger
    ``prediction_weight`` (for a classifier on a table the message names
    one: ten times the weight used) or more training may help. As the
    answers are valid already, the message also says that the generator's
    own answers can be worse than the repaired ones (on Adult with AdaBoost,
    ten times the AE's weight gave answers that moved further and looked
    less like their target class): compare both fits. The
    message names the kind
    of target (opposite class, another class, a regression interval); a
    regression's single value, a point the generator seldom lands on
    exactly, is reported in ``fit_report_`` but not warned about. A
    :class:`LowValidityWarning`,
    so filters of that class cover it; its name says that validity is not
    what is low.
    """


class PredictMismatchWarning(LowValidityWarning):
    """The model's ``predict`` disagrees with the probabilities validity is judged by.

    Issued at the end of ``fit`` when the explainer was given a classifier's
    ``predict_proba`` (the classifier, or its bound method) or
    ``decision_function`` and the
    classifier's own ``predict`` gives another class than the most likely
    one for more than 5 % of the self-check's counterfactuals
    (``fit_report_["predict_agreement_counterfactuals"]``); and by
    ``transform`` and ``explain``, with the number of their answers judged
    valid that ``predict`` puts in another class, when that self-check
    found any disagreement or looked at fewer than 50 answers. Validity is
    judged by the function given, so those answers are valid for
    ``predict_proba`` and not for ``predict``. Scikit-learn's
    ``SVC(probability=True)`` does this: its probabilities come from a
    Platt scaling fitted apart from the decision function, and
    counterfactuals lie near the decision boundary, where the two disagree
    most. A multi-class ``SVC``'s ``predict`` breaks ties of its
    one-vs-one votes by class order, not by its ``decision_function``. To
    explain ``predict``'s decisions give ``clf.decision_function`` (for a
    multi-class ``SVC``, fitted with ``break_ties=True``)
    or ``clf.predict`` as the model, or calibrate with
    ``CalibratedClassifierCV(..., ensemble=False)``. A
    :class:`LowValidityWarning`, so filters of that class cover it.
    """


class PixelScaleWarning(CfexplainWarning):
    """Integer images were read as grey levels 0-255, but look like another scale.

    Issued by ``fit`` when integer images never exceed 31 (e.g.
    scikit-learn's 8x8 digits, 0-16): the generator then sees every pixel
    as nearly black. Pass them as floats in [0, 1] (divide by their
    maximum), or as uint8 0-255.
    """


class ImplausibleCounterfactualWarning(CfexplainWarning):
    """Some valid counterfactuals bring in what the training data lack.

    Issued by ``transform`` with ``plausible_categories=True`` when, for
    some rows, the repairs found no answer both valid and plausible, so a
    valid answer holding a pair of categories the training rows lack was
    kept (validity is never traded for plausibility). This happens mostly
    when an immutable category's value is held by no training row of the
    target class. A pair is two categories, or a category and a range of a
    number's values; ``explain`` marks the rows
    (:attr:`Explanation.plausible`), and
    :func:`cfexplain.metrics.unseen_category_pairs` with ``reduce=None``
    marks those lacking a pair of two categories.
    """


class AmbiguousTargetWarning(CfexplainWarning):
    """A target that some rows' model outputs leave undecided.

    ``"opposite"`` is the most likely class other than the predicted one;
    where several other classes share the largest probability (a
    multi-class model given as ``predict`` gives one-hot rows, so every
    other class ties) the first in ``classes_`` order is taken and the
    rows are counted. Give ``predict_proba``, or name the target class.
    """


class OutsideBoundsWarning(CfexplainWarning):
    """Some originals hold values outside the bounds a call sets.

    Bounds hold for the whole counterfactual, so ``transform`` and
    ``explain`` clip such values into them whether or not the model needs
    the change: on z-normalised series bounded at (-1.5, 1.5), nearly every
    beat was reshaped that way. The message counts the rows and names the
    features (or channels); bound with a range the originals respect, or
    leave those rows out, to explain them as they are.
    """


class OutsideTrainingRangeWarning(CfexplainWarning):
    """Some originals hold numbers outside the range of the training rows.

    Issued by ``transform`` and ``explain`` on tables. The generator learnt
    nothing beyond ``[min, max]`` of a number's training values and its
    decoder answers within that range, so such a row's counterfactual is an
    extrapolation. Such a number keeps its original value wherever the
    model accepts the answer with it (Age 120 stays 120), and is changed
    only where the model needs it; the model judges every answer on the
    values returned. The message counts the rows and names the features
    with their training ranges; fit on rows that cover them to explain such
    rows as the training data does.
    """


class EncodedCategoriesWarning(CfexplainWarning):
    """A table's numeric columns look like one-hot encoded categories.

    Issued by ``fit`` when two or more adjacent numeric columns hold only 0
    and 1 with exactly one 1 in every row. The explainer reads each as a
    number of its own, so a counterfactual can set two of them, or none:
    a row no encoder produces (in a new-user trial, 16 % of the answers
    for XGBoost on 30 zip-code dummies). Fit on the table before encoding,
    with a ``predict_fn`` that encodes it (see the user guide, "A model
    trained on encoded arrays").
    """


class NumbersAsTextWarning(CfexplainWarning):
    """A table's ``object`` column holds only numbers and is read as a category.

    Issued by ``fit``. A column of dtype ``object`` is a category column,
    whatever its values, so a counterfactual can only move it to a value
    the training rows hold, one of as many one-hot columns as it has
    values, where the model may have seen a number. Convert it with
    ``pd.to_numeric`` to explain it as a number, or with
    ``astype("category")`` to say that its values are categories (which
    silences the warning).
    """


class HighCardinalityWarning(CfexplainWarning):
    """A table's category column holds about as many values as training rows.

    Issued by ``fit`` for a category column with at least 20 distinct
    values (declared categories, for the ``category`` dtype) and more than
    half as many as there are training rows, as an identifier held as text
    (a customer code, a name) has. One-hot encoding gives it
    one generator input per value: a text identifier added to the 1,000
    rows of German credit widened the encoding from 91 to 1,091 columns
    and made the GAN's fit 3.5 times as long, and a counterfactual can
    only give such a column another training row's value. If the model
    does not read the column, fit and explain on the table without it (a
    ``Pipeline`` whose ``ColumnTransformer`` leaves it out accepts such
    rows) and join it back by index; if it holds numbers, convert it with
    ``pd.to_numeric``.
    """


class UnreachedTargetWarning(CfexplainWarning):
    """Some counterfactuals returned by ``transform`` do not reach their target.

    The rows are still returned (one per input row); ``explain`` marks them
    in its ``valid`` mask.
    """


class UnseenCategoryWarning(CfexplainWarning):
    """Some rows hold a category the explainer's ``fit`` did not see.

    Issued by ``transform`` and ``explain`` of an explainer with
    ``handle_unknown="warn"``: the encoder has no input for such a
    category, so no counterfactual of the row can be generated.
    ``transform`` returns these rows unchanged (the model does not put
    them on their target); ``explain`` leaves them out of its
    :class:`~cfexplain.Explanation`, whose index names the rows it
    explains. With ``handle_unknown="error"`` (the default) the call raises
    an :class:`InvalidDataError` instead. The explainer's ``score``
    and the scorers of :mod:`cfexplain.metrics` issue it too for the rows
    they leave out of a score for that reason.
    """
