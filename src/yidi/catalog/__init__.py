"""The treatment region's catalogue (就医地目录): model, files and versions in the database."""
