"""Storage: SQLModel tables, the async engine, repositories and migrations."""
