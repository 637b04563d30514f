"""Re-exports nova-hyperv's driver under its own module path, as nova 34 resolves it."""

from nova_hyperv.driver import HyperVDriver

__all__ = ["HyperVDriver"]
