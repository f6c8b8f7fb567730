"""Data for the course: TinyWorld (generated), PyDocs (real text) and online dataset loaders."""
