"""Locust load tests, the bulk seed they run on, their gates, reports and the benchmark."""
