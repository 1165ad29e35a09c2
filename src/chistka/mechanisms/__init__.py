"""Mechanisms of the model, one module each (see docs/DESIGN.md section 2).

Beside them, three modules that are no mechanism: `base` (what a mechanism is), `registry` (the
order in which they act each day, and their assembly for a run) and `regional` (a helper that
`arrest` and `operations` share). The README's model section names every module here.
"""
