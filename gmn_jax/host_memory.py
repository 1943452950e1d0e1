"""Transparent huge pages for the host memory XLA:CPU allocates.

XLA:CPU allocates a computation's large buffers anew at every call (per
training step of the paper's model: a 349 MB buffer of temporaries and the
convolutions' 92-181 MB workspaces). glibc's malloc maps each one freshly and
unmaps it on free, so every step faults its pages in again, 4 KB at a time:
~85,000 faults a step, a quarter of its CPU time in the kernel on 2 cores.
With GLIBC_TUNABLES=glibc.malloc.hugetlb=1 glibc asks Linux for transparent
huge pages for such mappings, and a step faults ~700 times instead
(benchmarks/README.md, "XLA's own options and the host's malloc"). glibc reads
its tunables once, at start-up: a script that wants them restarts itself.
The mathematics is untouched.
"""
import os
import platform
import sys

TUNABLE = "glibc.malloc.hugetlb=1"
OPT_OUT = "GMN_JAX_SYSTEM_MALLOC"  # =1: leave glibc's malloc as it is
_THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def _thp_mode() -> str:
  """Linux's transparent huge page mode ("always", "madvise", "never"), or
  "" where there is none."""
  try:
    with open(_THP) as f:
      return next(w[1:-1] for w in f.read().split() if w.startswith("["))
  except (OSError, StopIteration):
    return ""


def huge_page_tunables(environ, libc=None, thp_mode=None):
  """-> the GLIBC_TUNABLES value that adds TUNABLE to `environ`'s, or None
  where none is needed or possible: already there, opted out (OPT_OUT=1), a
  C library other than glibc 2.35 or later (the first with the tunable), or
  no transparent huge pages to ask for."""
  name, version = libc or platform.libc_ver()
  mode = _thp_mode() if thp_mode is None else thp_mode
  current = environ.get("GLIBC_TUNABLES", "")
  if (TUNABLE in current.split(":") or environ.get(OPT_OUT) == "1"
      or name != "glibc" or mode not in ("always", "madvise")):
    return None
  if tuple(int(v) for v in version.split(".")[:2]) < (2, 35):
    return None
  return f"{current}:{TUNABLE}" if current else TUNABLE


def restart_with_huge_pages() -> None:
  """Replaces this process by the same command (interpreter, its original
  arguments, environment) with glibc asking for transparent huge pages,
  unless huge_page_tunables says none is needed or possible, in which case it
  returns. Call first thing in a script's main: nothing done before
  survives."""
  tunables = huge_page_tunables(os.environ)
  if tunables is None:
    return
  sys.stdout.flush()
  sys.stderr.flush()
  os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]],
            {**os.environ, "GLIBC_TUNABLES": tunables})
