"""The Conduit API service."""
