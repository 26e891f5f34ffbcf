"""The costliest frames of a py-spy profile in collapsed ("raw") form.

    .venv/bin/python -m benchmarks.profile_top FILE [--top 30] [--match bot/] \
        [--within run_forever]

Inclusive: the share of samples in which the function is on the stack (counted once per
sample, however deep the recursion). Self: the share in which it is the innermost frame.
With --within, only samples with a frame that contains that text count (`run_forever`:
the running bot, without its start-up's imports).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# "function (path/to/file.py:123)" -> "function (path/to/file.py)"
_LINE = re.compile(r":\d+\)$")


def frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    names = [_LINE.sub(")", frame) for frame in stack.split(";") if frame]
    return names, int(count)


def main(args: argparse.Namespace) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(args.file).read_text().splitlines():
        if not line.strip():
            continue
        names, count = frames(line)
        if args.within and not any(args.within in name for name in names):
            continue
        total += count
        for name in set(names):
            inclusive[name] += count
        if names:
            own[names[-1]] += count
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        shown = 0
        for name, count in counter.most_common():
            if args.match and args.match not in name:
                continue
            print(f"{100 * count / total:6.1f}%  {name}")
            shown += 1
            if shown == args.top:
                break


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default=None)
    parser.add_argument("--within", default=None)
    main(parser.parse_args())
