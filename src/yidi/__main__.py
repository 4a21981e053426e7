from yidi.entrypoints.cli.main import run

run()
