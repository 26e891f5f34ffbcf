"""What people see: views (texts), keyboards, callback data, and the renderers that turn
outbox deliveries into messages. Routers and the delivery engine's wiring both import
this package; it imports no router and no handler."""
