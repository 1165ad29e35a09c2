"""Analyses of runs, which read `chistka.results.Results` and which the reports draw on.

Observables, the comparison with the record, the terror, ensembles, validation, calibration and
sensitivity.
"""
