"""Entry point for ``python -m archive``."""

from archive.cli import main

if __name__ == "__main__":
    main()
