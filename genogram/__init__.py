"""genogram."""
