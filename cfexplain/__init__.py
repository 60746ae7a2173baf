"""Counterfactual explanations from conditional generative networks."""

__version__ = "0.1.0.dev0"
