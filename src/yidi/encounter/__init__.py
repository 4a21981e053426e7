"""Encounters at the hospital (就医): admission, fee lines, discharge, settlement and reversal."""
