"""The settlement engine as it was before the composable benefit model (reference only).

Kept unchanged inside ``bench/`` so ``bench/settle_bench.py`` can time the new engine
against the old one on the same claim in the same run. ``policies/`` holds the old-format
policy files of the one region the benchmark settles. Not part of the package.
"""
