"""Mechanisms of the model, one module each (see DESIGN.md section 2)."""
