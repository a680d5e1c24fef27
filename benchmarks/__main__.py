"""`python -m benchmarks`: run the benchmark and print the table."""

import sys

from ._harness import main

if __name__ == "__main__":
    sys.exit(main())
