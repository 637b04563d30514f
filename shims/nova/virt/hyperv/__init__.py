"""`compute_driver = hyperv.HyperVDriver`: the name of nova's old in-tree Hyper-V driver.

nova 34 imports `'nova.virt.' + compute_driver` and nothing else, so nova-hyperv ships
this tiny package inside nova's `nova.virt` (see docs/architecture.md, "Loading the
driver"). It only re-exports; the driver lives in `nova_hyperv.driver`.
"""

from nova_hyperv.driver import HyperVDriver

__all__ = ["HyperVDriver"]
