"""Analysis of runs: observables (and, later, ensembles, calibration, sensitivity)."""
