"""Where documents come from: files and folders today, feeds and URLs later.

Sources do the I/O and the format-specific parsing (front matter, HTML); the core turns
the resulting text into Documents.
"""
