"""Turning a library's exception into the one-line reason our messages end with."""


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message, or its type's name when it has none."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
