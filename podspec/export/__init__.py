"""Export, pure: inspect JSON -> model -> manifest text."""
