"""Registrations that give the operators their place in PyTorch 2 subsystems."""
