"""Tests of the load-test tooling itself: gates, shapes, compare, and the distributed mode."""
