"""Response models of every JSON route (issue 12 item 5), by area; ``common`` says how they
are built (closed shapes, open parts, key order)."""
