"""Users, sign-in, sessions and the gateway's client credentials."""
