"""Settings: checks of single values, the catalogue of every setting, and loading host
data into a validated Settings before any host is touched."""

from tasks.settings.catalogue import DEFAULTS, SETTINGS, Settings
from tasks.settings.loading import SettingsError, load_settings

__all__ = ["DEFAULTS", "SETTINGS", "Settings", "SettingsError", "load_settings"]
