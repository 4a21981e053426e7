"""The ways in: REST API, web pages and the command line. They receive built services."""
