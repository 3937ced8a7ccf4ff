"""glm: the command line for Zhipu GLM-4.7."""

__version__ = "0.1.0"
