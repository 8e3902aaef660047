"""promisekeeper: record every promise made to a customer and check it against what happened."""

__version__ = "0.1.0"
