"""`compute_driver = compute_hyperv.driver.HyperVDriver`, as compute-hyperv documented it.

Only `driver` is provided; see docs/architecture.md, "Loading the driver".
"""
