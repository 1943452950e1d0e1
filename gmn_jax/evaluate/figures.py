"""Image grids (the paper's Figure 2)."""
import os

import numpy as np


def conditional_sample_grid(context: np.ndarray, samples: np.ndarray,
                            path: str, first_row: int = 0) -> None:
  """context: [T, 28, 28], samples: [S, T + 1, 28, 28] -> a PNG.

  Row n (n = 0..T) shows, after a gap, S samples given the first n context
  images; its first column is context image n (the newest it sees; blank for
  n = 0). Rows n < first_row show no samples: a conditional model is never
  asked to predict with fewer than C examples (first_scored_step). Ink is
  drawn black on white.
  """
  from PIL import Image
  t, s = context.shape[0], samples.shape[0]
  pad = 2
  cell = 28 + pad
  grid = np.zeros(((t + 1) * cell, (s + 2) * cell), np.float32)
  for n in range(t + 1):
    y = n * cell
    if n:
      grid[y:y + 28, 0:28] = context[n - 1]
    if n < first_row:
      continue
    for j in range(s):
      x = (j + 2) * cell
      grid[y:y + 28, x:x + 28] = samples[j, n]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(((1.0 - grid) * 255).astype(np.uint8)).resize(
      (grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)
