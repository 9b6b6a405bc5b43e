"""One module per agent; each is started as its own process by the launcher."""
