"""The ``yidi`` command line (命令行). Each sub-command explains itself in Chinese and English."""

from __future__ import annotations

import typer

from yidi import __version__
from yidi.cli import policy as policy_cli
from yidi.cli import settle as settle_cli

app = typer.Typer(
    name="yidi",
    help="yidi 异地就医备案与直接结算 — cross-region medical insurance filing and direct settlement.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("version")
def version() -> None:
    """显示版本号。Show the version."""
    typer.echo(__version__)


app.add_typer(policy_cli.app, name="policy")
app.registered_commands.extend(settle_cli.app.registered_commands)


def run() -> None:
    app()
