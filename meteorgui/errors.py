"""The one base of the problems a user is told about.

A ``MeteorguiError`` is something the user (or the camera's owner) can understand and act
on; its ``str()`` is one line saying what went wrong and why. The command line prints it
as ``meteorgui: <message>``; the GUI's task runner shows it in a message box unless the
view that started the work handles it itself. Anything else is a bug: logged with its
stack, never shown as a traceback.
"""

from __future__ import annotations


class MeteorguiError(Exception):
    """A problem the user can act on; one line."""
