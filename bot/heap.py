"""The garbage collector's full pass, kept short in the long-running processes.

Python's full collection walks every object the collector tracks. A started bot holds
some 320,000 of them (modules, classes, pydantic's validators, SQLAlchemy's mappers, the
catalogues), and a full pass over them took about 230 ms on the development machine: a
pause that every update in flight waits through, and the p99 of 175-280 ms that
benchmarks.speed saw now and then at 100 updates a second.
"""

from __future__ import annotations

import gc
from typing import Any


def settle(*_: Any) -> None:
    """Collect once, then leave everything alive now out of every later collection.

    Called when a process has built its parts and before it takes work: what exists then
    (the code and the parts) lives as long as the process, so the collector loses nothing
    by not looking at it again, and later full passes walk only what came after. Takes
    any arguments so that it can be given as a `started` callback."""
    gc.collect()
    gc.freeze()
