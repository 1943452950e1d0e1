"""Evaluation: Table 1 (conditional NLL), few-shot classification, figures."""
