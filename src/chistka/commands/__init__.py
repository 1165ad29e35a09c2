"""Commands of the command-line interface that live outside `chistka.cli`, one module each.

Each module defines a typer command function (annotated with its arguments and options) that
`chistka.cli` registers on its app, e.g. `app.command("validate")(validate_command)`.
"""
