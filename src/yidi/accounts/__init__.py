"""Personal accounts (个人账户): model, commands and SQL."""
