"""The case as a web application: a view on the store (pages and their JSON twins), access in one policy."""
