"""gmn_jax.host_memory: a restarted process faults its large buffers in as
huge pages, and the restart happens only where it can help."""
import os
import subprocess
import sys

import pytest

from gmn_jax import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tunables_are_added_once_and_only_where_they_apply():
  glibc, thp = ("glibc", "2.36"), "madvise"
  tunables = lambda env, libc=glibc, mode=thp: host_memory.huge_page_tunables(
      env, libc, mode)
  assert tunables({}) == "glibc.malloc.hugetlb=1"
  assert tunables({"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"}) == (
      "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1")
  assert tunables({}, mode="always") == "glibc.malloc.hugetlb=1"
  # already restarted, so no second restart; opted out; nothing to ask for
  assert tunables({"GLIBC_TUNABLES": "a=1:glibc.malloc.hugetlb=1"}) is None
  assert tunables({"GMN_JAX_SYSTEM_MALLOC": "1"}) is None
  assert tunables({}, libc=("", "")) is None  # macOS, musl
  assert tunables({}, libc=("glibc", "2.31")) is None  # before the tunable
  assert tunables({}, mode="never") is None
  assert tunables({}, mode="") is None  # no THP in this kernel


# Restarts (or not), then counts the page faults while a 64 MB malloc'd
# buffer is written and freed 4 times, after one warm-up round; prints
# "<GLIBC_TUNABLES> <faults>".
_ROUNDS = """
import ctypes, os, resource
from gmn_jax import host_memory
host_memory.restart_with_huge_pages()
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
print(os.environ.get("GLIBC_TUNABLES", "-"),
      resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(**env) -> tuple:
  env = {k: v for k, v in {**os.environ, **env}.items()
         if k != "GLIBC_TUNABLES"}
  out = subprocess.run([sys.executable, "-c", _ROUNDS], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True)
  tunables, count = out.stdout.split()
  return tunables, int(count)


@pytest.mark.skipif(host_memory.huge_page_tunables({}) is None,
                    reason="needs glibc >= 2.35 and transparent huge pages")
def test_a_restarted_process_faults_its_buffers_in_as_huge_pages():
  pages = 4 * (64 << 20) // os.sysconf("SC_PAGE_SIZE")
  tunables, restarted = faults()
  assert tunables == host_memory.TUNABLE
  assert restarted < pages // 10  # 2 MB at a time, where the kernel has them
  tunables, opted_out = faults(GMN_JAX_SYSTEM_MALLOC="1")
  assert tunables == "-" and opted_out > pages // 2  # 4 KB at a time
