"""What operators need and the domain does not: logs, metrics, request ids, security headers, health,
and the app server's own limits."""
