"""Work after a device kind's Modify rules passed, whatever those rules are.

`after_modify(kind, work)` wraps the rules registered for a kind (composition, not a
subclass), so a part of the emulator can follow changes (a running VM's memory, a
serial port's pipe) while another part refines the kind's rules in its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import Ctx
from hyperv_emulator.providers.catalog import DeviceKind
from hyperv_emulator.providers.devices import register_rules, rules_for
from hyperv_emulator.providers.vms import Vm

AfterModify = Callable[[Ctx, Vm, Instance, set[str]], None]


class _Followed:
    def __init__(self, inner: Any, work: AfterModify) -> None:
        self.inner = inner
        self.work = work

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        self.inner.modify(ctx, vm, kind, old, new, changed)
        self.work(ctx, vm, new, changed)


def after_modify(kind: DeviceKind, work: AfterModify) -> None:
    """Run `work(ctx, vm, new setting, changed names)` after the kind's modify rules."""
    register_rules(kind.name, _Followed(rules_for(kind), work))  # type: ignore[arg-type]
