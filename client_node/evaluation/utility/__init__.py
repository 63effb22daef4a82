"""Utility measures: does the synthetic data (or the model trained on it) serve the task?"""
