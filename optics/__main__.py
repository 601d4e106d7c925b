"""``python -m optics`` runs the command line."""

from optics.cli import main

raise SystemExit(main())
