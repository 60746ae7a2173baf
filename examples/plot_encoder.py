"""
Encoding a mixed-type table and decoding network outputs
========================================================

:class:`~cfexplain.preprocessing.TabularEncoder` turns a DataFrame into the
float vectors the generators work on (one-hot categories, CTGAN's
mode-specific normalisation of numbers), describes every span of that vector,
and decodes *any* float matrix of the right width back into a table with the
original columns and dtypes.
"""

import numpy as np

from cfexplain import datasets
from cfexplain.preprocessing import TabularEncoder

X, _ = datasets.load_adult(return_X_y=True)
X = X.sample(n=3000, random_state=0)
encoder = TabularEncoder(random_state=0).fit(X)
Xt = encoder.transform(X)
print(f"{X.shape[1]} columns encode into {Xt.shape[1]} floats")

# %%
# The layout says which slice of the vector encodes which feature, and how.
for span in encoder.layout_.spans[:6]:
    print(span.feature, span.kind, (span.start, span.stop), span.activation)

# %%
# Decoding the encoding gives the table back.
back = encoder.inverse_transform(Xt, index=X.index)
print(
    (back == X).all().all(), dict(back.dtypes.astype(str)) == dict(X.dtypes.astype(str))
)

# %%
# Random scores, as an untrained network would produce, still decode into
# valid categories and numbers within the range seen in ``fit``.
scores = np.random.default_rng(0).normal(scale=3, size=(5, Xt.shape[1]))
print(encoder.inverse_transform(scores))
