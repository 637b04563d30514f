"""Method semantics of the emulated host, one module per area; importing this package
registers every provider (see `base` for how a provider is written and found)."""

from hyperv_emulator import jobs  # noqa: F401  (Msvm_ConcreteJob's own methods)
from hyperv_emulator.providers import (  # noqa: F401
    base,
    faults,
    graphics,
    lifecycle,
    nesting,
    pci,
    provisioning,
    resources,
    restart,
    runtime,
    security,
    service_settings,
    summary,
)
