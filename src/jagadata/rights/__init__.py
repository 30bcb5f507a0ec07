"""Rights exercised by a recorded request (Art. 14): intake, verification, the clock, workflow."""
