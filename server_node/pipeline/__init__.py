"""The server's stages as plain functions: generate, grade, rewrite, train. No web imports."""
