"""The ``cfexplain`` command line.

``cfexplain demo`` trains a classifier on the Adult data shipped with the
package, fits a :class:`~cfexplain.CounterfactualGAN` to explain it, prints a
few counterfactuals as readable changes and the metric report of the test
split. ``cfexplain explain`` applies a saved explainer to a CSV file.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import warnings

import pandas as pd

__all__ = ["build_adult_classifier", "main"]


def build_adult_classifier(X, y, random_state=0):
    """Train paper 1's Adult classifier: two hidden layers of 40 ReLU units.

    One-hot encoded categories and standardised numbers feed a multi-layer
    perceptron trained for 5 epochs with Adam at learning rate 1e-3 (paper 1,
    appendix A.3). About 85 % test accuracy.

    Parameters
    ----------
    X : pandas.DataFrame
        Adult features, as returned by :func:`cfexplain.datasets.load_adult`.
    y : array-like
        Income labels.
    random_state : int, default=0
        Seed of the network's initialisation and shuffling.

    Returns
    -------
    sklearn.pipeline.Pipeline
        The fitted classifier, taking DataFrames like ``X``.
    """
    from sklearn.compose import make_column_transformer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numerical = X.select_dtypes("number").columns.tolist()
    categorical = [c for c in X.columns if c not in numerical]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            (StandardScaler(), numerical),
        ),
        MLPClassifier(
            hidden_layer_sizes=(40, 40),
            learning_rate_init=1e-3,
            max_iter=5,
            batch_size=128,
            random_state=random_state,
        ),
    )
    with warnings.catch_warnings():
        # Five epochs is the paper's setting, not a convergence failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


def _demo(args) -> int:
    from sklearn.model_selection import train_test_split

    from . import CounterfactualGAN, datasets
    from .metrics import counterfactual_report

    X, y = datasets.load_adult(return_X_y=True)
    if args.sample is not None:
        X = X.sample(n=min(args.sample, len(X)), random_state=args.seed)
        y = y.loc[X.index]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=args.seed
    )
    print(f"Adult: {len(X_train)} training rows, {len(X_test)} test rows")
    clf = build_adult_classifier(X_train, y_train, random_state=args.seed)
    print(f"classifier test accuracy: {clf.score(X_test, y_test):.3f}")

    explainer = CounterfactualGAN(
        max_epochs=args.epochs, random_state=args.seed, verbose=args.verbose
    )
    start = time.perf_counter()
    explainer.fit(X_train, predict_fn=clf.predict_proba)
    print(
        f"fitted CounterfactualGAN in {time.perf_counter() - start:.1f} s "
        f"(surrogate agrees with the classifier on "
        f"{explainer.surrogate_.fidelity_:.1%} of held-out rows)"
    )

    print(f"\nCounterfactuals of {args.rows} test rows (target: the other class):")
    print(explainer.explain(X_test.iloc[: args.rows]))

    start = time.perf_counter()
    X_cf = explainer.transform(X_test)
    seconds = time.perf_counter() - start
    print(
        f"\ntransform: {len(X_test)} rows in {seconds:.2f} s "
        f"({len(X_test) / seconds:,.0f} rows/s)"
    )
    report = counterfactual_report(
        clf.predict_proba, X_test, X_cf, name="CounterfactualGAN"
    )
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(report.round(4).to_string())
    return 0


def _explain(args) -> int:
    with open(args.explainer, "rb") as handle:
        explainer = pickle.load(handle)
    X = pd.read_csv(args.data)
    target = args.target
    if target is not None and target != "opposite":
        classes = getattr(explainer, "classes_", None)
        if classes is not None:
            # CSV text must become a class label of the model's own type.
            matches = [c for c in classes if str(c) == target]
            target = matches[0] if matches else target
    X_cf = explainer.transform(X, target=target)
    if args.output:
        X_cf.to_csv(args.output, index=False)
    else:
        X_cf.to_csv(sys.stdout, index=False)
    return 0


def main(argv=None) -> int:
    """Run the ``cfexplain`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status.
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="cfexplain",
        description="Counterfactual explanations from conditional generative networks.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="explain a classifier on the shipped Adult data"
    )
    demo.add_argument("--epochs", type=int, default=30, help="GAN epochs")
    demo.add_argument("--rows", type=int, default=5, help="rows to explain")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--verbose", type=int, default=0, help="training progress")
    demo.add_argument(
        "--sample", type=int, default=None, help="use only this many Adult rows"
    )
    demo.set_defaults(run=_demo)

    explain = commands.add_parser(
        "explain", help="apply a pickled explainer to the rows of a CSV file"
    )
    explain.add_argument("explainer", help="pickle of a fitted explainer")
    explain.add_argument("data", help="CSV file with the explainer's columns")
    explain.add_argument("--target", default=None, help="target class label")
    explain.add_argument("--output", "-o", default=None, help="CSV file to write")
    explain.set_defaults(run=_explain)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
