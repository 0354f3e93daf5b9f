"""The ``mcatlas`` command line: thin click commands that parse, call and print."""
