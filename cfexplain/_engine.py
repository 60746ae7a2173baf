"""The candidate engine: k counterfactuals of n rows as one batch, per round.

:class:`CandidateEngineMixin` gives the explainers ``_candidates``, the one
path of ``transform``, ``explain``, ``score`` and the self-check: check and
encode the rows once (:meth:`~CandidateEngineMixin._batch`), generate every
row's candidates in one call of the net, decode them in one call of the
modality adapter and, when they must be ranked, score them in one call of
the real model; then hand the rejected first answers to the closed loop
(:class:`~cfexplain._closed_loop.ClosedLoopMixin`). The pure pieces (noise,
batch layout, ranking) are in :mod:`cfexplain._candidates`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._candidates import (
    CandidateBatch,
    CandidateSet,
    fixed_noise,
    rank_candidates,
    repeat_rows,
)
from ._constraints import plain_constraints
from ._random import torch_generator
from ._targets import align_target
from .exceptions import ConstraintError

__all__ = ["ACCEPTED", "IMPLAUSIBLE", "REJECTED", "CandidateEngineMixin"]

#: Grades of a scored candidate (:meth:`CandidateEngineMixin._grade`): the
#: model puts it off its target; at its target, but it brings in what the
#: training data lack (``plausible_categories``); at its target and
#: plausible. Each choice of the engine takes the highest grade there is.
REJECTED, IMPLAUSIBLE, ACCEPTED = 0, 1, 2


class CandidateEngineMixin:
    """The candidate engine of :class:`~cfexplain._base.BaseCounterfactualExplainer`.

    Reads the fitted explainer's ``adapter_``, ``encoder_``, ``predictor_``,
    ``net_``, ``random_seed_``, ``n_candidates``, ``numeric_tolerance``,
    ``max_rounds`` and ``training_row_candidates``.
    """

    def _candidates(self, X, target, constraints, k, *, repair=True):
        """Return ``k`` counterfactuals per row of ``X``: transform's answer first.

        The candidates of every row are generated as one batch (see
        :mod:`cfexplain._candidates`). With ``n_candidates > 1`` they are
        deterministic (:func:`~cfexplain._candidates.fixed_noise`) and
        ranked as :func:`~cfexplain._candidates.rank_candidates` says
        (valid first, then by :meth:`_candidate_costs`): ``explain`` decodes
        and scores them all in one decode and one model call and returns
        the best of the first ``n_candidates``, then the next best of
        ``max(n_candidates, k)``; ``transform`` finds the same first answer
        scoring as few as possible (:meth:`_cheapest_valid`). Otherwise the
        first is the noise-free answer and the others are sampled through
        the generator's noise, reproducibly from the fitted seed, all
        decoded at once. A row the model already puts at its target is
        each of its own answers. Then, with ``repair`` and ``max_rounds >
        0``, the answers the real model rejects get up to ``max_rounds`` repairs
        (:meth:`_repair`); with ``k > 1`` every answer does, and each row's
        answers are put in order by :meth:`_distinct_first`. With
        ``training_row_candidates``, every answer is then compared with a
        training-row candidate (:meth:`_compare_training_rows`).

        Parameters
        ----------
        X : object
            What the user passed.
        target : object or None
            The user's target (``None``: the ``target`` parameter).
        constraints : tuple
            ``(immutable, bounds, monotonic)``, ``None`` for the
            constructor's.
        k : int
            Counterfactuals per row.
        repair : bool, default=True
            Whether to repair rejected first answers.

        Returns
        -------
        CandidateSet
        """
        batch = self._batch(X, target, constraints)
        candidates = self._unchanged_at_target(
            batch, self._generated_candidates(batch, k)
        )
        if not repair or not (self.max_rounds or self._uses_training_row_candidates()):
            if repair:
                # The generator's answers alone still keep an original's
                # numbers outside the training range where the model agrees.
                counterfactuals, _ = self._keep_values_outside_the_range(
                    self._repeated_batch(batch, k) if k > 1 else batch,
                    candidates.counterfactuals,
                    candidates.y_counterfactual,
                )
                candidates = replace(candidates, counterfactuals=counterfactuals)
            return replace(candidates, plausibility_keys=batch.plausibility_keys)
        y_cf = np.asarray(self._model_outputs(candidates))
        if k == 1:
            counterfactuals, y_cf = self._repair(
                batch, candidates.counterfactuals, y_cf
            )
            if self._uses_training_row_candidates():
                counterfactuals, y_cf = self._compare_training_rows(
                    batch, counterfactuals, y_cf
                )
            counterfactuals, y_cf = self._keep_values_outside_the_range(
                batch, counterfactuals, y_cf
            )
        else:
            # Every answer gets the repairs; the j-th of a row moves towards
            # its j-th nearest target-class training row, so that repaired
            # answers differ.
            repeated = self._repeated_batch(batch, k)
            counterfactuals, y_cf = self._repair(
                repeated, candidates.counterfactuals, y_cf
            )
            if self._uses_training_row_candidates():
                counterfactuals, y_cf = self._compare_keeping_distinct(
                    repeated, counterfactuals, y_cf, k
                )
            counterfactuals, y_cf = self._keep_values_outside_the_range(
                repeated, counterfactuals, y_cf
            )
            # A row already at its target keeps itself as every answer.
            at_target = np.tile(batch.target.is_met(batch.y_model), k)
            repeat = self._repeats(counterfactuals, k)
            again = np.flatnonzero(repeat & ~at_target)
            if len(again) and self.max_rounds >= 2:
                # A generator whose noise barely matters gives a row the
                # same answer twice: the training-row path gives another.
                counterfactuals, y_cf = self._repair_round(
                    self._repair_by_training_rows,
                    repeated,
                    again,
                    counterfactuals,
                    y_cf,
                )
                repeat = self._repeats(counterfactuals, k)
            counterfactuals, y_cf = self._distinct_first(
                batch, counterfactuals, y_cf, repeat
            )
        return CandidateSet(
            batch.rows,
            batch.y_model,
            batch.target,
            counterfactuals,
            y_cf,
            batch.plausibility_keys,
        )

    def _compare_keeping_distinct(self, repeated, counterfactuals, y_cf, k):
        """Compare ``k`` answers per row with training-row candidates, apart.

        Several answers of a row can shorten to the same training-row
        candidate (their references differ in features the model does not
        need): an answer the comparison would make a repeat of an earlier
        one keeps its own, when its own is valid.
        """
        adapter = self.adapter_
        compared, y_compared = self._compare_training_rows(
            repeated, counterfactuals, y_cf
        )
        valid_own = np.asarray(repeated.target.is_met(y_cf), dtype=bool)
        own = np.flatnonzero(
            self._repeats(compared, k) & ~self._repeats(counterfactuals, k) & valid_own
        )
        if not len(own):
            return compared, y_compared
        compared = adapter.replace_rows(
            compared, own, adapter.take_rows(counterfactuals, own)
        )
        y_compared = np.asarray(y_compared).copy()
        y_compared[own] = np.asarray(y_cf)[own]
        return compared, y_compared

    def _repeated_batch(self, batch, k):
        """Return ``batch`` with its rows repeated ``k`` times, candidate-major.

        Position ``j * n + i`` holds row ``i``, with reference rank ``j``
        for the training-row repair.
        """
        n = len(batch.Xt)
        row_of = np.tile(np.arange(n), k)
        return CandidateBatch(
            X=batch.X,
            rows=self.adapter_.take_rows(batch.rows, row_of),
            Xt=batch.Xt[row_of],
            y_model=np.asarray(batch.y_model)[row_of],
            target=batch.target.take(row_of),
            condition=batch.condition[row_of],
            target_condition=batch.target_condition[row_of],
            frozen_features=batch.frozen_features,
            frozen_columns=batch.frozen_columns[row_of],
            constraints=batch.constraints,
            reference_rank=np.repeat(np.arange(k), n),
            plausibility_keys=(
                None
                if batch.plausibility_keys is None
                else batch.plausibility_keys[row_of]
            ),
        )

    def _repeats(self, counterfactuals, k):
        """Flag answers equal to an earlier answer of the same row, ``(k * n,)``.

        ``counterfactuals`` holds ``k`` answers per row, candidate-major.
        Two answers are equal when no feature differs by more than
        ``numeric_tolerance`` (the change the decoder treats as noise).
        """
        adapter = self.adapter_
        n = len(counterfactuals) // k
        answers = [
            adapter.take_rows(counterfactuals, np.arange(j * n, (j + 1) * n))
            for j in range(k)
        ]
        repeat = np.zeros((k, n), dtype=bool)
        for j in range(1, k):
            for earlier in answers[:j]:
                answer = adapter.take_rows(answers[j], np.arange(n))
                adapter.revert_negligible_changes(
                    earlier, answer, self.numeric_tolerance
                )
                repeat[j] |= ~adapter.changed_features(earlier, answer).any(axis=1)
        return repeat.reshape(-1)

    def _distinct_first(self, batch, counterfactuals, y_cf, repeat):
        """Order each row's ``k`` answers: the first, then distinct valid ones.

        The first answer stays first (``transform``'s). The others follow
        as distinct valid answers, distinct invalid ones, then repeats of
        an earlier answer (``repeat``, from :meth:`_repeats`), each group
        in candidate order.
        """
        n = len(batch.Xt)
        k = len(repeat) // n
        repeat = repeat.reshape(k, n)
        valid = batch.target.take(np.tile(np.arange(n), k)).is_met(y_cf)
        valid = np.asarray(valid, dtype=bool).reshape(k, n)
        # Per row (a column here): candidate 0 first, then by (repeat,
        # invalid, candidate number).
        candidate = np.broadcast_to(np.arange(k)[:, None], (k, n))
        order = np.lexsort((candidate, ~valid, repeat, candidate > 0), axis=0)
        positions = (order * n + np.arange(n)).reshape(-1)
        return (
            self.adapter_.take_rows(counterfactuals, positions),
            np.asarray(y_cf)[positions],
        )

    def _unchanged_at_target(self, batch, candidates):
        """Answer the rows the model already puts at their target with themselves.

        The smallest change that gives such a row its target is none (a
        named class the row already has, a value already in its interval):
        every one of its answers is the row, unless the call's constraints
        would change it (a value outside its bounds).
        """
        met = np.flatnonzero(batch.target.is_met(batch.y_model))
        adapter = self.adapter_
        if len(met) and batch.constraints.alters_rows:
            # A row outside the call's bounds is no answer as it is: it
            # keeps its constrained candidate, which the model then judges
            # and the repairs fix like any other.
            originals = adapter.take_rows(batch.rows, met)
            clipped = batch.constraints.apply(
                originals, adapter.take_rows(batch.rows, met)
            )
            met = met[~adapter.changed_features(originals, clipped).any(axis=1)]
        if not len(met):
            return candidates
        n = len(batch.Xt)
        k = len(candidates.counterfactuals) // n
        positions = (np.arange(k)[:, None] * n + met).reshape(-1)
        counterfactuals = adapter.replace_rows(
            candidates.counterfactuals,
            positions,
            adapter.take_rows(batch.rows, np.tile(met, k)),
        )
        y_cf = candidates.y_counterfactual
        if y_cf is not None:
            y_cf = y_cf.copy()
            y_cf[positions] = np.asarray(batch.y_model)[np.tile(met, k)]
        return CandidateSet(
            batch.rows, batch.y_model, batch.target, counterfactuals, y_cf
        )

    def _batch(self, X, target, constraints):
        """Check ``X`` and gather what every round of the engine needs."""
        check_is_fitted(self, "adapter_")
        adapter = self.adapter_
        X_checked = adapter.check_input(self, X, reset=False)
        Xt = self.encoder_.transform(X_checked)
        y_model = self.predictor_.predict(X_checked)
        resolved = self._resolve(align_target(target, X), y_model)
        parsed = self._parsed_constraints(constraints)
        parsed.check_feasible(adapter.as_rows(X_checked))
        frozen = parsed.frozen_features()
        if len(frozen) and frozen.all():
            raise ConstraintError(
                "the constraints freeze every feature (or every value of a "
                "series or image): no counterfactual can change anything; "
                "leave some free (immutable, or a smaller mask)"
            )
        return CandidateBatch(
            X=X,
            rows=adapter.as_rows(X_checked),
            Xt=Xt,
            y_model=y_model,
            target=resolved,
            condition=self._condition(y_model),
            target_condition=self._target_condition(resolved),
            frozen_features=frozen,
            frozen_columns=self._frozen_columns(frozen, len(Xt)),
            constraints=parsed,
            plausibility_keys=(
                adapter.plausibility_keys(Xt) if self.plausible_categories else None
            ),
        )

    def _parsed_constraints(self, constraints):
        """Parse a call's constraints; each ``None`` takes the constructor's."""
        defaults = (self.immutable, self.bounds, self.monotonic)
        given = [
            d if c is None else c for c, d in zip(constraints, defaults, strict=True)
        ]
        return self.adapter_.parse_constraints(*plain_constraints(*given))

    def _generated_candidates(self, batch, k):
        """Return the generator's candidates (see :meth:`_candidates`)."""
        n = len(batch.Xt)
        width = self.net_.module_.noise_width
        n_candidates = self._resolved_n_candidates()
        # Without noise, a module's candidates would all be the same.
        ranked = n_candidates > 1 and width > 0
        m = max(n_candidates, k) if ranked else k
        inputs = (batch.Xt, batch.condition, batch.target_condition)

        def generate(copies, noise=None, **kwargs):
            # With noise, each row goes in once with its `copies` draws and the
            # module makes its candidates (sharing work between them); a module
            # without noise gets the rows repeated.
            arrays = (*inputs, batch.frozen_columns)
            if noise is None:
                arrays = tuple(repeat_rows(a, copies) for a in arrays)
            return self.net_.generate(*arrays, noise=noise, **kwargs)

        if ranked:
            Xt_cf = generate(m, noise=fixed_noise(width, n, m, self.random_seed_))
        else:
            parts = [generate(1)]
            if k > 1:
                generator = torch_generator(self.random_seed_)
                noise = None
                if width:
                    noise = torch.randn((k - 1) * n, width, generator=generator)
                    noise = noise.numpy()
                parts.append(
                    generate(k - 1, noise=noise, sample=True, generator=generator)
                )
            Xt_cf = np.concatenate(parts)

        everything = np.arange(m * n)
        if not ranked:
            decoded = self._decode(batch, everything % n, Xt_cf)
            return CandidateSet(batch.rows, batch.y_model, batch.target, decoded, None)

        Xt_m, condition_m, target_m = (repeat_rows(a, m) for a in inputs)
        costs = self._candidate_costs(Xt_m, Xt_cf, condition_m, target_m)
        costs = costs.reshape(m, n).T
        if k == 1:
            return self._cheapest_valid(batch, Xt_cf, costs)
        decoded = self._decode(batch, everything % n, Xt_cf)
        y_cf, grade = self._grade(batch, everything % n, decoded)
        chosen = rank_candidates(costs, grade.reshape(m, n).T, n_candidates)[:, :k]
        positions = (chosen.T * n + np.arange(n)).reshape(-1)
        return CandidateSet(
            batch.rows,
            batch.y_model,
            batch.target,
            self.adapter_.take_rows(decoded, positions),
            y_cf[positions],
        )

    def _resolved_n_candidates(self):
        """Return ``n_candidates``, with ``"auto"`` resolved by the backend."""
        value = getattr(self, "n_candidates", 1)
        return self._auto_n_candidates() if value == "auto" else value

    def _auto_n_candidates(self):
        """Return what ``n_candidates="auto"`` means (1 unless a backend says)."""
        return 1

    def _decode(self, batch, row_of, Xt, *, revert_negligible=True):
        """Decode encoded candidates in one batch, against their original rows.

        ``row_of[i]`` is the original row of candidate ``i``; negligible
        changes (``numeric_tolerance``, the noise of a network's continuous
        outputs) are reverted, unless ``revert_negligible`` is False, and
        the constraints applied against it.
        """
        adapter = self.adapter_
        originals = adapter.take_rows(batch.rows, row_of)
        decoded = adapter.decode(Xt, originals)
        # Features a candidate left as they were (a path's features not
        # copied) decode only to float32 precision: they get the original's
        # exact value, whatever the tolerance.
        adapter.keep_unmoved_values(originals, decoded, Xt == batch.Xt[row_of])
        if revert_negligible:
            adapter.revert_negligible_changes(
                originals, decoded, self.numeric_tolerance
            )
        return batch.constraints.apply(originals, decoded)

    def _grade(self, batch, row_of, decoded):
        """Return the model's outputs on decoded candidates and their grades.

        :data:`ACCEPTED` where the model puts a candidate at its target and
        it brings in nothing the training data lack
        (:meth:`_implausible`), :data:`IMPLAUSIBLE` where only the first
        holds, :data:`REJECTED` where the model puts it off its target.
        The engine prefers a higher grade, then a lower cost.
        """
        y_cf = np.asarray(self.predictor_.predict(self.adapter_.in_fit_format(decoded)))
        return y_cf, self._grades(batch, row_of, decoded, y_cf)

    def _grades(self, batch, row_of, counterfactuals, y_cf):
        """Grade counterfactuals the model has already scored (see :meth:`_grade`).

        Only the valid ones are checked for plausibility.
        """
        valid = np.asarray(batch.target.take(row_of).is_met(y_cf), dtype=bool)
        grade = np.where(valid, ACCEPTED, REJECTED)
        positions = np.flatnonzero(valid)
        odd = self._implausible(
            batch, np.asarray(row_of)[valid], counterfactuals, positions
        )
        grade[positions[odd]] = IMPLAUSIBLE
        return grade

    def _score(self, batch, row_of, decoded):
        """Return the model's outputs on decoded candidates and which to accept.

        Accepted: graded :data:`ACCEPTED` by :meth:`_grade`.
        """
        y_cf, grade = self._grade(batch, row_of, decoded)
        return y_cf, grade == ACCEPTED

    def _implausible(self, batch, row_of, counterfactuals, positions=None):
        """Flag counterfactuals (at ``positions``) unlike any training data.

        See :meth:`~cfexplain.modalities.ModalityAdapter.introduced_implausibility`
        (tables: a pair of categories the training rows lack).
        """
        keys = batch.plausibility_keys
        if keys is None or not len(row_of):
            return np.zeros(len(row_of), dtype=bool)
        adapter = self.adapter_
        if positions is not None:
            counterfactuals = adapter.take_rows(counterfactuals, positions)
        return adapter.introduced_implausibility(keys[row_of], counterfactuals)

    def _cheapest_valid(self, batch, Xt_cf, costs):
        """Return each row's cheapest valid candidate, scoring as few as possible.

        The answer is the one :func:`~cfexplain._candidates.rank_candidates`
        puts first (highest grade, see :meth:`_grade`, then lowest cost),
        found in rounds of one decode and one model call each: round 1
        scores every row's cheapest candidate, and each later round the
        next 2, 4, 8, ... candidates (in cost order) of the rows still
        without an accepted one. A row with no valid candidate keeps its
        cheapest.
        """
        n, m = costs.shape
        order = np.argsort(costs, axis=1, kind="stable")
        answers = y_cf = None
        # The grade of each row's answer so far; a row stops at its first
        # accepted candidate, and keeps its first implausible valid one
        # while it looks further.
        held = np.full(n, REJECTED)
        pending = np.arange(n)
        start, width = 0, 1
        while len(pending) and start < m:
            stop = min(start + width, m)
            # Candidate-major over the pending rows: [candidate, row].
            tried = order[pending, start:stop].T
            row_of = np.broadcast_to(pending, tried.shape).reshape(-1)
            decoded = self._decode(
                batch, row_of, Xt_cf[(tried * n + pending).reshape(-1)]
            )
            y_round, grade = self._grade(batch, row_of, decoded)
            if answers is None:
                # Round 1 holds every row's cheapest candidate: the answer of
                # rows that find no valid one.
                answers, y_cf = decoded, y_round.copy()
            grade = grade.reshape(tried.shape)
            # Per row: its best tried candidate, the first of the best grade.
            best = grade.max(axis=0)
            first = (grade == best).argmax(axis=0)
            better = best > held[pending]
            picked = (first * len(pending) + np.arange(len(pending)))[better]
            answers = self.adapter_.replace_rows(
                answers, pending[better], self.adapter_.take_rows(decoded, picked)
            )
            y_cf[pending[better]] = y_round[picked]
            held[pending[better]] = best[better]
            pending = pending[held[pending] < ACCEPTED]
            start, width = stop, 2 * width
        return CandidateSet(batch.rows, batch.y_model, batch.target, answers, y_cf)

    def _candidate_costs(self, Xt, Xt_cf, condition, target_condition):
        """Rank candidate counterfactuals: lower is better, one cost per row.

        The default is the L1 distance on the encoding; a backend may rank
        by its own criterion (paper 2's metric for the CVAE).
        """
        return np.abs(Xt_cf - Xt).sum(axis=1).astype(np.float64)

    def _model_outputs(self, candidates):
        """Return the model's outputs on the candidates (computed once)."""
        if candidates.y_counterfactual is not None:
            return candidates.y_counterfactual
        return self.predictor_.predict(
            self.adapter_.in_fit_format(candidates.counterfactuals)
        )
