"""Pure domain: knows nothing of HTTP, SQL or the command line."""
