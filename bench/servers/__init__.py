"""The two homeservers under test, each a subprocess on its own loopback port."""

from bench.servers.base import ServerProcess, StartError
from bench.servers.ours import OursServer
from bench.servers.vanilla import VanillaServer

__all__ = ["OursServer", "ServerProcess", "StartError", "VanillaServer"]
