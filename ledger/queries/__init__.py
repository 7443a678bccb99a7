"""Reads: balances, lists, statements and program reports. All amounts are integer minor units.

Sign conventions follow the API: an artist's balance is what the program owes it (positive =
owed); statement lines are positive for valued work and negative for payments. One module per
resource; the report's per-artist figures stored between reads are `report_cache`; which work
the payments paid (first in, first out) is `fifo`.
"""

from .balances import (
    balance_rows,
    balances,
    pay_deadlines,
    payable_balance_minor,
    with_pay_deadlines,
    with_pending,
)
from .contributions import contribution_rows
from .disputes import ResultingEntry, dispute_queue, resulting_entry
from .entries import entry_rows, monthly_series, visible_entries
from .fifo import PayDeadline, unpaid_work
from .notifications import unconfirmed_payments, unread_count
from .report import Report, median_days_to_payment, program_report, readable_report
from .report_cache import WorkCounts, median_of_histogram
from .rows import KeysetRows, SqlRows
from .statements import (
    Statement,
    StatementLine,
    must_name_artist,
    statement,
    statement_membership,
)

__all__ = [
    "KeysetRows",
    "PayDeadline",
    "Report",
    "ResultingEntry",
    "SqlRows",
    "Statement",
    "StatementLine",
    "WorkCounts",
    "balance_rows",
    "balances",
    "contribution_rows",
    "dispute_queue",
    "entry_rows",
    "median_days_to_payment",
    "median_of_histogram",
    "monthly_series",
    "must_name_artist",
    "pay_deadlines",
    "payable_balance_minor",
    "program_report",
    "readable_report",
    "resulting_entry",
    "statement",
    "statement_membership",
    "unconfirmed_payments",
    "unpaid_work",
    "unread_count",
    "visible_entries",
    "with_pay_deadlines",
    "with_pending",
]
