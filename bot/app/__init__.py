"""The web App: server, webhooks, the events table, the worker, pages."""
