"""disk: the one safe way to open a file the repository holds (regular files only)."""
