"""Real-browser tests, run by `make test-browser` (a package, so its conftest has a name of its own)."""
