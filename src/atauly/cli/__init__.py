"""The ``atauly`` command (Typer): one verb per job."""
