"""One router per resource of the JSON API (assembled in :mod:`atauly.service.api`)."""
