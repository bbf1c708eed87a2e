"""kinlink: family record linkage and Family Summary Records for safeguarding hubs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
