"""The shared kernel: money, errors, identity numbers, regions, privacy, audit hashing, clock, working days."""
