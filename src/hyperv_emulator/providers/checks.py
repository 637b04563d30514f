"""Checks every provider applies to what a client sends: value maps, lengths, states.

A refusal names the class and property, the value, and what is allowed, and carries
the code Hyper-V uses for it (32773 invalid parameter, 32775 invalid state).
"""

from __future__ import annotations

from collections.abc import Iterable

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import INVALID_PARAMETER, INVALID_STATE, Refused
from hyperv_emulator.providers.vms import STATE_NAMES, Vm


def check_values(setting: Instance, names: Iterable[str] | None = None,
                 affected: Iterable[Instance] = ()) -> None:
    """Value maps and maximum lengths of the schema, for the given (or all) properties."""
    wanted = None if names is None else {n.lower() for n in names}
    for lowered, value in setting.raw.items():
        if value is None or (wanted is not None and lowered not in wanted):
            continue
        prop = setting.cls.props[lowered]
        items = value if isinstance(value, tuple) else (value,)
        if prop.values is not None:
            for item in items:
                if item not in prop.values:
                    allowed = ", ".join(f"{k} ({v})" for k, v in sorted(prop.values.items()))
                    raise Refused(
                        INVALID_PARAMETER,
                        f"{setting.class_name}.{prop.name} = {item!r} is not allowed; "
                        f"allowed: {allowed}",
                        affected=affected,
                    )
        if prop.max_len is not None:
            for item in items:
                if isinstance(item, str) and len(item) > prop.max_len:
                    raise Refused(
                        INVALID_PARAMETER,
                        f"{setting.class_name}.{prop.name} is {len(item)} characters long; "
                        f"at most {prop.max_len} are allowed",
                        affected=affected,
                    )


def require_off(vm: Vm, what: str) -> None:
    """Hyper-V changes some things only while the VM is off (reference notes §4.5)."""
    if not vm.is_off:
        state = STATE_NAMES.get(vm.state, str(vm.state))
        raise Refused(
            INVALID_STATE,
            f"{what} requires the virtual machine {vm.describe()} to be off; it is {state}",
            affected=[vm.cs],
            subject=f"'{vm.name}'",
        )


def refuse(vm: Vm | None, message: str, code: int = INVALID_PARAMETER) -> Refused:
    affected = [vm.cs] if vm is not None else []
    subject = f"'{vm.name}'" if vm is not None else ""
    return Refused(code, message, affected=affected, subject=subject)
