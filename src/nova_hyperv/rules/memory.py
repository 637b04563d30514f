"""Memory and dynamic memory.

`[hyperv] dynamic_memory_ratio` > 1 turns dynamic memory on: the VM starts with
memory / ratio (rounded down to an even MB, Hyper-V's granularity) and may grow to the
flavor's memory. Hyper-V cannot combine dynamic memory with vNUMA, nested
virtualization or an assigned PCI device, so any of those turns it off.
"""

from __future__ import annotations

from nova_hyperv.rules.plan import MemoryPlan
from nova_hyperv.rules.request import HyperVConfig

__all__ = ["MINIMUM_MB", "memory"]

MINIMUM_MB = 32  # Hyper-V's smallest VM memory


def memory(memory_mb: int, config: HyperVConfig, *, dynamic_allowed: bool) -> MemoryPlan:
    ratio = config.dynamic_memory_ratio
    if not dynamic_allowed or ratio <= 1:
        return MemoryPlan(memory_mb, dynamic=False, minimum_mb=memory_mb, maximum_mb=memory_mb)
    startup = int(memory_mb / ratio)
    startup -= startup % 2
    startup = min(max(startup, MINIMUM_MB), memory_mb)
    return MemoryPlan(startup, dynamic=True, minimum_mb=startup, maximum_mb=memory_mb)
