"""The HTML reports of a run and of an ensemble, composed of the sections in `report.sections`."""

from chistka.report.html import write_report

__all__ = ["write_report"]
