"""The HTML report of a run: plots of the model against the record."""

from chistka.report.html import write_report

__all__ = ["write_report"]
