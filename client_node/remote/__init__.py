"""Talking to a server node over HTTP(S): the only way anything leaves the client."""
