"""``python -m torch2keras`` runs the command line."""
from torch2keras.cli import main

raise SystemExit(main())
