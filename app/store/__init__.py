"""Storage: SQLModel tables, sessions, published rule sets, the decision log."""
