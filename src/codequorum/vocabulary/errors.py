"""Errors that carry a message a user can act on."""


class CodequorumError(Exception):
    """Base class: the message says what went wrong and what to do next."""


class ConfigError(CodequorumError):
    """A configuration file or option is invalid."""


class ModelFileError(CodequorumError):
    """A model file is missing or fails its integrity check."""


class PluginError(CodequorumError):
    """A plugin could not be found or loaded."""


class MemberError(CodequorumError):
    """A member (model backend) failed to produce a generation."""
