"""Code shared by every agent: the ZMQ request loop and small helpers."""
