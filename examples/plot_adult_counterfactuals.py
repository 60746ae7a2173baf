"""
Counterfactuals for an income classifier
========================================

Train a classifier on a sample of the Adult data shipped with cfexplain, fit a
:class:`~cfexplain.CounterfactualGAN` to explain it, and read the
counterfactuals as changes, with Race and Sex kept immutable.
"""

from sklearn.model_selection import train_test_split

from cfexplain import CounterfactualGAN, datasets, metrics
from cfexplain.cli import build_adult_classifier

X, y = datasets.load_adult(return_X_y=True)
X = X.sample(n=4000, random_state=0)
y = y.loc[X.index]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf = build_adult_classifier(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Fit the explainer (a few epochs keep the example fast) and explain rows. It
# learns from the model's predictions, not from labels, so it can be fit on
# every row: then it knows every category that it will be asked about (a
# category unseen in ``fit`` is an error, not a silent guess).
cf = CounterfactualGAN(max_epochs=10, immutable=["Race", "Sex"], random_state=0)
cf.fit(X, predict_fn=clf.predict_proba)
explanation = cf.explain(X_test.iloc[:4], n_counterfactuals=2)
print(explanation)

# %%
# Score the counterfactuals of the whole test split.
X_cf = cf.transform(X_test)
print(metrics.counterfactual_report(clf.predict_proba, X_test, X_cf).round(3))

# %%
# Which features do the counterfactuals change?
explanation.plot()
