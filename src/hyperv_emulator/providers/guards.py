"""Rules one feature imposes on another provider's method, without touching that provider.

Hyper-V's rules cross areas: a VM with an assigned PCI device cannot be saved, its
automatic stop action must stay TurnOff, a shielded VM starts only on a guarded host,
the Secure Boot template is frozen once the vTPM is initialized. The providers of
RequestStateChange and ModifySystemSettings know nothing of PCI or the vTPM; the
feature modules register guards here instead (`@guard(class, method)`), and one
`base.CALL_HOOKS` entry runs them before the provider, inside its transaction. A
guard says no by raising `Refused`, which the engine turns into the method's usual
failure (a failed job for methods with a Job output).
"""

from __future__ import annotations

from collections.abc import Callable

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import CALL_HOOKS, Args, Ctx
from hyperv_emulator.schema.model import Method, ResolvedClass

Guard = Callable[[Ctx, Instance | None, Args], None]

_GUARDS: dict[tuple[str, str], list[Guard]] = {}


def guard(class_name: str, method_name: str) -> Callable[[Guard], Guard]:
    """Run `fn(ctx, target, args)` before every call of that method (found by class chain)."""

    def register(fn: Guard) -> Guard:
        _GUARDS.setdefault((class_name.lower(), method_name.lower()), []).append(fn)
        return fn

    return register


def _run_guards(ctx: Ctx, cls: ResolvedClass, method: Method, target: Instance | None,
                args: Args) -> None:
    name = method.name.lower()
    for class_name in cls.chain:
        for fn in _GUARDS.get((class_name.lower(), name), ()):
            fn(ctx, target, args)


if _run_guards not in CALL_HOOKS:
    CALL_HOOKS.append(_run_guards)
