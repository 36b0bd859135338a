"""What a case holds and what its evidence says, as tables and JSON."""
