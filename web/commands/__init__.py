"""State changes shared by the REST API and the pages, one module per resource, so a button and an endpoint do the same thing (the write-side sibling of :mod:`web.read_model`)."""
