"""Plugin kinds, their protocols and the entry-point registry."""
