"""Host memory that XLA:CPU can reuse from one step to the next.

XLA:CPU allocates a computation's buffers anew at every call. glibc's malloc
serves blocks over 32 MB with mmap, and each thread's arena returns the
memory it frees to the kernel, so every training step page-faults on freshly
zeroed pages: ~85,000 faults and a quarter of the CPU time in the kernel per
step of the paper's model on 2 cores. With one arena that never maps or trims
its memory, a step reuses the last step's pages (benchmarks/README.md,
"Host settings"). The mathematics is untouched; the price is that the
process keeps its peak memory until it exits, as a training run does anyway.
"""
import ctypes
import ctypes.util
import os
import platform

OPT_OUT = "GMN_JAX_SYSTEM_MALLOC"  # set to 1 to leave malloc as it is

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_NEVER_TRIM = 2 ** 31 - 1  # bytes free at the heap's top before it shrinks


def keep_freed_memory() -> bool:
  """Makes glibc keep freed memory for reuse: one arena, no mmap, no trim.
  Call before JAX runs anything (its threads take arenas on first use).
  -> whether it applied: False, changing nothing, where the C library is not
  glibc (macOS, musl) or the environment sets GMN_JAX_SYSTEM_MALLOC=1."""
  if (os.environ.get(OPT_OUT) == "1" or platform.system() != "Linux"
      or platform.libc_ver()[0] != "glibc"):
    return False
  libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
  return all(libc.mallopt(param, value) == 1 for param, value in (
      (_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _NEVER_TRIM)))
