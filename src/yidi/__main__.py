from yidi.cli.main import run

run()
