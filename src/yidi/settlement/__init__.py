"""The settlement engine: 参保地政策、就医地目录 (pure, no I/O, no clock)."""
