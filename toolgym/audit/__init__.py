"""The reward audit: play correct and wrong variants of every task and measure the rewards.

``bench/reward_audit.py`` runs it; :mod:`toolgym.audit.variants` says what the variants are and
:mod:`toolgym.audit.run` how the rates are counted.
"""

from toolgym.audit.kit import AuditKit
from toolgym.audit.run import Outcome, Summary, audit_env, format_summary, summarize

__all__ = ["AuditKit", "Outcome", "Summary", "audit_env", "format_summary", "summarize"]
