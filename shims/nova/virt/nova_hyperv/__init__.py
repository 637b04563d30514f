"""`compute_driver = nova_hyperv.driver.HyperVDriver`: our own module path.

nova 34 resolves the name under `nova.virt.`, so the real module path works only through
this alias; see docs/architecture.md, "Loading the driver".
"""
