"""analysis.memory.give_back: freed pages go back to the system."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis import memory


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_freed_arrow_memory_is_returned():
    before = _rss_mib()
    # many mid-sized buffers from Arrow's own allocator, which keeps freed pages for reuse
    # (without give_back the process stayed at its grown size here)
    base = pa.array(np.arange(200_000, dtype=np.int64))
    chunks = [pc.add(base, i) for i in range(200)]
    grown = _rss_mib()
    assert grown - before > 200  # 320 MB of buffers are resident
    del chunks
    memory.give_back()
    assert _rss_mib() < grown - 200  # most of it is the system's again
