"""What the JSON API and the web pages share over HTTP: the request's session and
container, the security middleware, and the filing request bodies (also the command
line's JSON files). Neither ``api`` nor ``web`` imports the other; both import this."""
