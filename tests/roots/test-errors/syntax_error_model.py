"""A module that does not import."""

def broken(:
    pass
