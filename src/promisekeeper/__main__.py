"""``python -m promisekeeper`` runs the same CLI as ``pk``."""

from promisekeeper.cli import main

main()
