"""Offline demo material: synthetic annual reports with known truth, rendered in real-world layouts."""
