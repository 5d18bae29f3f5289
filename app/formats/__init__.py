"""File formats and printed forms shared by the interfaces (``app.api``, ``app.web``, ``app.cli``):
.xlsx workbooks read and written (``excel``), SVG charts (``charts``) and the tables that the
exports and the pages both print (``tables``).  Above ``app.access`` and ``app.checks``: it may call a
check (``excel.proposal_requests`` normalises each row), never an interface."""
