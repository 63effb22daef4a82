"""Training-free DP generation: next-token votes of disjoint groups of private records, aggregated
with report-noisy-max (Laplace or Gaussian), every token charged to the privacy ledger."""
