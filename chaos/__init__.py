"""Fault drills and soak runs against real servers (a test kit, like sample_traffic).

`orderrepo chaos` runs the long versions; tests/faults/ runs the short ones in CI.
Every drill ends by comparing the store with a ground truth computed independently
of the project's merge code (`chaos.ground_truth`).
"""
