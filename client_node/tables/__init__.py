"""Private tables on the client: intake with schema inference, the DP reference pool, HARMONIC examples."""
