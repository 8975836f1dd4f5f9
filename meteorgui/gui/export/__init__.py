"""Export: send events and stills to another archive, to a folder or a zip, on a schedule."""
