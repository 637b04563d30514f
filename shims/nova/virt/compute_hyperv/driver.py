"""Re-exports nova-hyperv's driver under compute-hyperv's documented driver name."""

from nova_hyperv.driver import HyperVDriver

__all__ = ["HyperVDriver"]
