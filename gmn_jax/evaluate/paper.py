"""The paper's Table 1 (conditional NLL in nats, Omniglot test split)."""
COLUMNS = (0, 1, 2, 3, 4, 5, 10, 19)

# model name (as the flagfiles) -> C_test -> {t: nats}
TABLE1 = {
    "gmn_c2": {
        1: (89.7, 83.3, 78.9, 75.7, 72.9, 70.1, 59.9, 45.8),
        2: (89.4, 86.4, 84.9, 82.4, 81.0, 78.8, 71.4, 61.2),
        4: (89.3, 88.3, 87.3, 86.7, 85.4, 84.0, 80.2, 73.7)},
    "gmn_c2_conditional": {
        1: (None, 93.5, 82.2, 78.6, 76.8, 75.0, 69.7, 64.3),
        2: (None, None, 86.1, 83.7, 82.8, 81.0, 76.5, 71.4),
        4: (None, None, None, None, 86.8, 85.7, 82.5, 78.0)},
    "vae": {1: (89.1, None, None, None, None, None, None, None)},
    "avg_c1": {1: (92.4, 84.5, 82.3, 81.4, 81.1, 80.4, 79.8, 79.7)},
    "avg_c2": {2: (88.2, 86.6, 86.4, 85.7, 85.3, 84.5, 83.7, 83.4)},
    "avg_c1_conditional": {1: (None, 88.0, 84.1, 82.9, 82.4, 81.7, 80.9, 80.7)},
    "avg_c2_conditional": {2: (None, None, 85.7, 85.0, 85.3, 84.6, 84.5, 83.7)},
}


def paper_row(model: str):
  """The paper's row that `model` reproduces: its own name, or for a variant
  named <row>_<change> (avg_c1_rotations) the longest such row; None."""
  rows = [name for name in TABLE1
          if model == name or model.startswith(name + "_")]
  return max(rows, key=len, default=None)


def paper_value(model: str, c_test: int, t: int):
  """The paper's number for a cell of `model`'s paper_row, or None where the
  paper has none."""
  row = TABLE1.get(paper_row(model), {}).get(c_test)
  if row is None or t not in COLUMNS:
    return None
  return row[COLUMNS.index(t)]


def c_tests(model: str) -> tuple:
  """The C_test values the paper reports for `model`'s paper_row (1, 2, 4
  where it has none)."""
  row = paper_row(model)
  return tuple(sorted(TABLE1[row])) if row else (1, 2, 4)
