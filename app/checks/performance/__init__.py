"""Performance audit: where a contract stands on a date.

Per commitment and per consequence a finding with ``kind``, ``status`` (pass, fail,
insufficient_data, not_applicable), ``amount`` (万元, decimal text, null when none),
``formula`` and ``inputs``.  The state is recomputed from the stored events; every
decisive comparison (days late against 0, actual − committed against 0, the idle-land
ratios against 1) runs through the rule engine in one evaluation.  Missing data is
``insufficient_data`` with what is missing — never zero.

Tax records reach the audit screened by the caller's ``TaxView`` (``app.checks.visibility``): a
year whose record was reported by a region the caller may not see is ``withheld``
(不在本辖区权限内) — no figure, no penalty, not part of ``amount_total`` (which then says it is
partial), and the verdict cannot be ``pass``.  ``tax_regions`` lists the regions of the tax
figures the result contains (the stored decision is readable only by keys that see them all).

Modules: ``findings`` (finding shapes, the comparison collector ``Audit``), ``dates`` (F1, F2,
F3, F8), ``completion`` (F4–F7), ``tax`` (亩均税收), ``contract_audit`` (the audit, its verdict
and totals, storing the decision).
"""

from app.checks.performance.contract_audit import audit, evaluate, replay, run
from app.checks.performance.findings import Audit

__all__ = ["Audit", "audit", "evaluate", "replay", "run"]
