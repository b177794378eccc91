"""incidentops: Git-native incident operations for AI-safety teams."""

__version__ = "0.1.0"
