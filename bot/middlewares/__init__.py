"""Cross-cutting work around every update: throttle, db session, identity, locale."""
