"""A data loader that takes each minibatch from the arrays in one indexing.

skorch hands its dataset to torch's ``DataLoader``, which by default asks the
dataset for one row at a time and stacks the rows into a batch: a Python call,
a ``torch.as_tensor`` and an index normalisation per row and per array. For
the small networks cfexplain trains that bookkeeping can cost more than the
optimiser step: under cProfile, fitting a ``CounterfactualGAN`` on a
1,000,000-row table spent 150 of its 287 seconds there (4.5 ms per batch of
512 rows), most of it in the surrogate's training. Indexing whole batches
made the whole process of fitting the GAN on German credit (a RandomForest
pipeline) take 16.4 s instead of 19.7, and on Adult (the MLP) 54.9 s instead
of 61.3 (medians of 3, alternated, 2 threads).

:func:`batch_loader` takes ``DataLoader``'s place as skorch's
``iterator_train`` for data held as dense NumPy arrays, tensors or dicts of
them (all the nets here train on): a :class:`~torch.utils.data.BatchSampler`
hands the dataset a whole batch of positions, which skorch's
:class:`~skorch.dataset.Dataset` indexes in one fancy indexing per array.
The positions come from the same samplers ``DataLoader`` would build, drawing
from the same generator in the same order, so the batches, and the training,
are the same as with ``DataLoader``; only the bookkeeping is gone. One
difference no net reads: without ``y``, skorch's placeholder comes as one
``tensor([0.])`` per batch instead of one per row. Sparse matrices and pandas
objects, which skorch's dataset returns whole rather than as arrays, are
not for this loader.
"""

from __future__ import annotations

from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

__all__ = ["batch_loader"]


def batch_loader(
    dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, **kwargs
):
    """Return a ``DataLoader`` over ``dataset`` that indexes whole batches.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        A dataset whose ``__getitem__`` accepts a list of positions and
        returns the batch they make, as :class:`skorch.dataset.Dataset` does
        for arrays, tensors and dicts of them.
    batch_size : int, default=1
        Rows per batch.
    shuffle : bool, default=False
        Draw the rows in a random order each epoch (a
        :class:`~torch.utils.data.RandomSampler`), else in order.
    drop_last : bool, default=False
        Leave out the last, incomplete batch.
    generator : torch.Generator or None, default=None
        Draws the shuffling and the loader's base seed, as
        ``DataLoader(generator=...)`` does; ``None`` draws from torch's
        global generator.
    **kwargs
        Passed to :class:`~torch.utils.data.DataLoader` (``num_workers``,
        ``pin_memory``, ...); ``sampler``, ``batch_sampler`` and
        ``collate_fn`` are this function's to set.

    Returns
    -------
    torch.utils.data.DataLoader
        Yields the dataset's batches, NumPy arrays converted to tensors
        (:func:`torch.utils.data.default_convert`).

    Raises
    ------
    TypeError
        If ``kwargs`` sets ``sampler``, ``batch_sampler`` or ``collate_fn``.
    """
    taken = sorted({"sampler", "batch_sampler", "collate_fn"} & set(kwargs))
    if taken:
        raise TypeError(
            f"batch_loader sets {', '.join(taken)} itself; use torch's "
            "DataLoader as the net's iterator to choose them"
        )
    # The sampler shares the loader's generator, as DataLoader(shuffle=True,
    # generator=g) does: the loader draws its base seed from it when an
    # epoch starts, then the sampler its permutation, in that order.
    rows = (
        RandomSampler(dataset, generator=generator)
        if shuffle
        else SequentialSampler(dataset)
    )
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=BatchSampler(rows, batch_size, drop_last),
        generator=generator,
        **kwargs,
    )
