"""`python -m cbm_training.bench NAME [options]`: run one benchmark (NAME = a module of this package)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import cbm_training.bench as package


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    if not argv or argv[0] not in names:
        print(f"usage: python -m cbm_training.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    return importlib.import_module(f"cbm_training.bench.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
