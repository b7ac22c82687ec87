"""``make bench``: run every benchmark module and update BENCHMARKS.md.

``python -m benchmarks.run [NAME ...]`` runs only the named modules (e.g. ``filters``).
"""

from __future__ import annotations

import importlib
import sys

MODULES = ["filters", "edges", "scan", "synth", "batch", "orientation", "tiled"]


def main(argv: list[str]) -> int:
    names = argv or MODULES
    for name in names:
        try:
            mod = importlib.import_module(f"benchmarks.bench_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"benchmarks.bench_{name}":
                print(f"bench: no benchmarks/bench_{name}.py yet, skipped", file=sys.stderr)
                continue
            raise
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        mod.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
