"""Privacy measures: attacks on what is released (samples, adapters), run where the private data is."""
