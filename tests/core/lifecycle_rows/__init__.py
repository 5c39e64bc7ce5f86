"""One real row per declared lifecycle, for the walk in tests/core/test_lifecycles.py.

Each domain has a module here (`orders.py`, `distribution.py`...) whose functions,
decorated with `@row_maker("<lifecycle name>")`, take the test's `request` (to reach
the factories as fixtures) and return `(model, id)` of a freshly made row. Every module
in this package is imported by the walk, so adding a file is enough."""
from __future__ import annotations

import importlib
import pkgutil

# lifecycle name -> a function (the test's `request`) -> (model, id of one real row)
ROW_MAKERS = {}


def row_maker(name: str):
    def register(fn):
        ROW_MAKERS[name] = fn
        return fn
    return register


def load_all() -> dict:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return ROW_MAKERS
