"""Docker Engine and Compose v2 on Debian and Ubuntu: from Docker's own apt repository
(``docker_source = "official"``) or from the distribution (``"distro"``), with a
generated daemon.json and the service enabled under systemd or SysV init."""
