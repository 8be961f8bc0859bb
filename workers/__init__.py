"""`ccms worker`: one thin dramatiq actor per job (actors.py) and the boot that starts the runtime (middleware.py)."""
