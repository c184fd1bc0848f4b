"""`python -m service migrate | serve | seed`: the same command line as `python -m service.cli`."""

from service.cli import main

main()
