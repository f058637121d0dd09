"""``python -m reference_models``."""

from reference_models.cli import main

main()
