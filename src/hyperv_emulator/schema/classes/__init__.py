"""Class definitions, one module per family. `all_definitions()` gathers them."""

from __future__ import annotations

import importlib
import pkgutil

from hyperv_emulator.schema.model import ClassDef


def all_definitions() -> list[ClassDef]:
    """Every ClassDef declared in a module of this package (as module-level CLASSES)."""
    found: list[ClassDef] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "CLASSES", ()))
    return found
