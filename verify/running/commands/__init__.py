"""Subcommands of the ``theorycheck`` CLI, one module each (see ``theorycheck.running.cli``)."""
