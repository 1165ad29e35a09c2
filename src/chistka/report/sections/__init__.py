"""One module per section of the reports; the run and ensemble reports compose them.

Each module renders its section for one run (`run_section`, from a `common.RunReport`) and, where
the ensemble report has it too, for an ensemble (`ensemble_section`, from an `EnsembleRuns` and
the report's `FigureRenderer`). A section with nothing to show renders as "" and is left out.
"""
