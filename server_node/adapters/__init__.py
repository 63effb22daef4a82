"""Adapter intake: validation against hosted models and the server's privacy policy, then storage."""
