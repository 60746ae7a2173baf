"""
Counterfactuals for an income classifier
========================================

Train a scikit-learn classifier on a sample of the Adult data shipped with
cfexplain, fit a :class:`~cfexplain.CounterfactualGAN` to explain it, read
its counterfactuals as changes, score them with
:func:`~cfexplain.metrics.counterfactual_report`, and plot which features
they change. Race and Sex are kept immutable.
"""

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cfexplain import CounterfactualGAN, datasets, metrics

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)

# %%
# The model under explanation
# ---------------------------
#
# A sample of 4,000 rows keeps the example fast. The classifier is an ordinary
# scikit-learn pipeline that takes the DataFrame as it is; cfexplain only ever
# calls its ``predict_proba``.
X, y = datasets.load_adult(return_X_y=True)
X = X.sample(n=4000, random_state=0)
y = y.loc[X.index]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

numerical = X.select_dtypes("number").columns.tolist()
categorical = [c for c in X.columns if c not in numerical]
clf = make_pipeline(
    make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical),
        (StandardScaler(), numerical),
    ),
    LogisticRegression(max_iter=1000),
).fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Fit the explainer
# -----------------
#
# The explainer learns from the model's predictions, not from the labels, so
# it can be fit on every row of the sample: then it knows every category it
# will be asked about (a category unseen in ``fit`` is an error, not a silent
# guess). The classifier is a black box to it: a differentiable surrogate is
# trained on the classifier's outputs and refreshed during training with
# generated rows relabelled by the classifier. 30 epochs of small batches
# keep the fit short; the defaults train longer on more data.
cf = CounterfactualGAN(
    immutable=["Race", "Sex"], max_epochs=30, batch_size=64, random_state=0
)
cf.fit(X, predict_fn=clf.predict_proba)
print(
    "the surrogate agrees with the classifier on "
    f"{cf.surrogate_.fidelity_:.1%} of held-out rows"
)

# %%
# One counterfactual per row
# --------------------------
#
# ``transform`` returns a DataFrame with the columns, dtypes and index of its
# input; the default target is the opposite class.
X_cf = cf.transform(X_test)
pd.concat({"original": X_test.iloc[:3], "counterfactual": X_cf.iloc[:3]}, axis=1).T

# %%
# Explanations
# ------------
#
# ``explain`` adds the model's predictions, the target, whether each
# counterfactual reaches it, and the changed features. Counterfactual 0 is
# the deterministic answer of ``transform``; the others are sampled through
# the generator's noise.
explanation = cf.explain(X_test.iloc[:4], n_counterfactuals=3)
print(explanation)

# %%
# The same as a table, one row per counterfactual:
explanation.to_frame()[["prediction", "target", "valid", "changes"]]

# %%
# Scores
# ------
#
# The report measures validity with the real classifier, sparsity (L0 counts
# changed features, L1 averages the changes of standardised numbers) and, with
# MMD², how far the counterfactuals lie from the data distribution, overall
# and per predicted class.
metrics.counterfactual_report(clf.predict_proba, X_test, X_cf).round(3)

# %%
# Which features change?
# ----------------------
#
# The share of counterfactuals that change each feature, over the first 200
# test rows. Race and Sex never change.
cf.explain(X_test.iloc[:200]).plot()
