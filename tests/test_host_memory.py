"""gmn_jax.host_memory: freed host memory is reused rather than returned to
the kernel and faulted in again."""
import os
import subprocess
import sys
import platform

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Page faults while a 64 MB buffer is allocated, written and freed 4 times,
# after one warm-up round; prints "<applied> <faults>".
_ROUNDS = """
import ctypes, resource, sys
from gmn_jax import host_memory
applied = host_memory.keep_freed_memory() if sys.argv[1] == "keep" else None
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def round_trip():  # malloc itself: numpy asks for huge pages, XLA does not
  a = libc.malloc(64 << 20)
  ctypes.memset(a, 1, 64 << 20)
  libc.free(a)
round_trip()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
  round_trip()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str, **env) -> tuple:
  out = subprocess.run([sys.executable, "-c", _ROUNDS, mode], cwd=ROOT,
                       env={**os.environ, **env}, capture_output=True,
                       text=True, check=True)
  applied, count = out.stdout.split()
  return applied, int(count)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
  pages = 4 * (64 << 20) // os.sysconf("SC_PAGE_SIZE")
  applied, default = faults("default")
  assert default > pages // 2  # each round maps fresh pages
  applied, kept = faults("keep")
  assert applied == "True"
  assert kept < pages // 100
  # and the opt-out leaves malloc as it is
  applied, opted_out = faults("keep", GMN_JAX_SYSTEM_MALLOC="1")
  assert applied == "False" and opted_out > pages // 2
