"""`python -m bufferable.demo`: the same as `python -m bufferable demo`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
