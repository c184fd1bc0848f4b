"""Property-based fuzzing of every operation with raw request bytes (see test_no_server_errors.py)."""
