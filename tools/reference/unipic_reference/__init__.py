"""PyTorch reference oracle for unipic (development tool; the SDK never runs Python)."""
