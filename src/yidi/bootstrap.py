"""The composition root: the one place that wires settings, storage, services, API, web and CLI."""
