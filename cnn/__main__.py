"""``python -m cnn``: the command line (see cnn/cli.py)."""
from cnn.cli import main

raise SystemExit(main())
