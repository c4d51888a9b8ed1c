"""Evaluation: ``toolgym eval`` runs (``run``), their metrics, HTML report and Markdown tables."""

from toolgym.eval.markdown import compare_runs, markdown_summary
from toolgym.eval.report import write_report

__all__ = ["compare_runs", "markdown_summary", "write_report"]
