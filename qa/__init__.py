"""Black-box QA suite: speaks HTTP to BASE_URL only (see qa/README.md)."""
