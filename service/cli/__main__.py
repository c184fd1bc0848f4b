"""`python -m service.cli migrate | serve | seed`."""

from service.cli import main

main()
