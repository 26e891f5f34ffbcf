"""Staff routers. Every handler is behind HasRole: deny by default."""
