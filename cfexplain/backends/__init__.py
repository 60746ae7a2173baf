"""The torch layer: generator modules, the skorch nets that train them, losses.

Contract with the estimators above it:

* **In**: float32 arrays or tensors of encoded rows ``(n, n_encoded)``,
  conditioning vectors ``(n, n_condition)`` (the model's prediction ``y_M``
  and the target ``y_T``), masks of frozen encoded columns, and a
  :class:`~cfexplain.preprocessing.FeatureLayout` that says which slice of a
  row is a one-hot block or a continuous value. Images arrive flat, with
  their ``image_shape``.
* **Out**: float32 encoded counterfactuals of the same shape.
* **Never**: pandas, scikit-learn, user data formats, the model under
  explanation as the user gave it (only a frozen differentiable stand-in,
  ``predictor_module``, on encoded rows).

Layout, in skorch's vocabulary:

* :mod:`.modules`: torch modules, one file per modality (``tabular``,
  ``image``); every generator is a
  :class:`~cfexplain.backends.modules.CounterfactualModule` with one
  inference call and its own noise width.
* :mod:`.nets`: skorch nets, one file per method (``gan``, ``cvae``,
  ``perturbation``), sharing :class:`~cfexplain.backends.nets.CounterfactualNet`.
* :mod:`.losses`: paper 1's and paper 2's loss terms.
* :mod:`.sampling`: targets and frozen masks drawn while training.
* :mod:`.batches`: the data loader the nets train on, one indexing a batch.
"""

from .nets import CounterfactualNet, CVAENet, GANNet, PerturbationNet

__all__ = ["CVAENet", "CounterfactualNet", "GANNet", "PerturbationNet"]
