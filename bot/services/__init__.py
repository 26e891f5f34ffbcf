"""Domain services: they decide; handlers render and the db layer owns SQL."""
