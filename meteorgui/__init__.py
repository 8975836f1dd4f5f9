"""meteorgui: a desktop archive for meteor cameras speaking the MeteorPi import protocol."""

__version__ = "0.1.0"
