"""Setting up: cameras, users and settings."""
