"""aiogram routers: thin handlers that parse input, call a service and render the reply."""
