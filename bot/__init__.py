"""briefbot: who said what, where it was printed, and when it was first seen."""
