"""Evaluation reports. The shipped model's reliability plot, which the reviewer app shows, is
installed inside the package as `cbm.reports`."""
