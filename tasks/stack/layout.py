"""Where one host's stack lives and what its pieces are called."""

from __future__ import annotations

import msgspec

from tasks.settings import Settings

# Service names of the seed's compose file: the database's name is also its hostname on
# the stack's network and the name of its container (`docker exec prisma-db ...`).
DB_SERVICE = "prisma-db"
PRISMA_SERVICE = "prisma-database"
SERVICES = (DB_SERVICE, PRISMA_SERVICE)
DB_CONTAINER = DB_SERVICE
DB_ROOT_USER = "root"
DB_PORT_IN_NETWORK = 3306
DB_VOLUME_NAME = "db-persistence"
# The HTTPS proxy (with prisma_domain): its certificates and ACME account live in the
# data volume, so restarts and redeploys never order new ones.
PROXY_SERVICE = "prisma-proxy"
PROXY_DATA_VOLUME_NAME = "proxy-data"
PROXY_CONFIG_VOLUME_NAME = "proxy-config"
PROXY_DIR_IN_CONTAINER = "/etc/prisma-proxy"
PROXY_STORAGE_IN_CONTAINER = "/data/caddy"
# Prisma 1.0 creates its internal schema under this fixed name and reads it through
# SQL_INTERNAL_DATABASE: the two must agree (InternalDatabaseSchema.scala).
INTERNAL_DATABASE = "graphcool"

DEFAULT_DOCKER_DATA_ROOT = "/var/lib/docker"
COMPOSE_FILE_NAME = "docker-compose.yml"
ENV_FILE_NAME = ".env"
HASHES_FILE_NAME = ".compose-hashes"
FINGERPRINT_FILE_NAME = ".db-password-fingerprint"
PREVIOUS_IMAGES_FILE_NAME = ".previous-images"
BACKUPS_DIR_NAME = "backups"
PROXY_DIR_NAME = "proxy"  # mounted in the proxy: a directory, so replaced files are seen
PROXY_CONFIG_NAME = "caddy.json"
ACME_CA_ROOT_NAME = "acme-ca-root.pem"
PROXY_APPLIED_FILE_NAME = ".proxy-applied"
# Everything the deploy keeps in the stack directory; anything else there is not ours.
OWN_ENTRIES = frozenset(
    {
        COMPOSE_FILE_NAME,
        ENV_FILE_NAME,
        HASHES_FILE_NAME,
        HASHES_FILE_NAME + ".new",
        FINGERPRINT_FILE_NAME,
        PREVIOUS_IMAGES_FILE_NAME,
        BACKUPS_DIR_NAME,
        PROXY_DIR_NAME,
        PROXY_APPLIED_FILE_NAME,
        PROXY_APPLIED_FILE_NAME + ".new",
    }
)


class StackPaths(msgspec.Struct, frozen=True):
    """Where one host's stack lives, and the Compose project it is."""

    directory: str
    project: str
    docker_data_root: str = DEFAULT_DOCKER_DATA_ROOT
    # The database's files on a mounted data volume (prisma_data_device); "": a Docker volume
    data_dir: str = ""

    @classmethod
    def of(cls, settings: Settings) -> StackPaths:
        data_root = settings.docker_daemon_options.get("data-root", DEFAULT_DOCKER_DATA_ROOT)
        return cls(
            settings.prisma_stack_dir,
            settings.prisma_project_name,
            data_root,
            settings.database_dir,
        )

    @property
    def compose_file(self) -> str:
        return f"{self.directory}/{COMPOSE_FILE_NAME}"

    @property
    def env_file(self) -> str:
        return f"{self.directory}/{ENV_FILE_NAME}"

    @property
    def hashes_file(self) -> str:
        """Record of the last converge: the files' digest and Compose's config hashes."""
        return f"{self.directory}/{HASHES_FILE_NAME}"

    @property
    def fingerprint_file(self) -> str:
        """The database password's fingerprint, recorded when the volume was initialised."""
        return f"{self.directory}/{FINGERPRINT_FILE_NAME}"

    @property
    def previous_images_file(self) -> str:
        """The images that ran before the last upgrade (see tasks/images/record.py)."""
        return f"{self.directory}/{PREVIOUS_IMAGES_FILE_NAME}"

    @property
    def backups_dir(self) -> str:
        return f"{self.directory}/{BACKUPS_DIR_NAME}"

    @property
    def proxy_dir(self) -> str:
        return f"{self.directory}/{PROXY_DIR_NAME}"

    @property
    def proxy_config_file(self) -> str:
        return f"{self.proxy_dir}/{PROXY_CONFIG_NAME}"

    @property
    def acme_ca_root_file(self) -> str:
        return f"{self.proxy_dir}/{ACME_CA_ROOT_NAME}"

    @property
    def proxy_applied_file(self) -> str:
        """sha256 of the proxy's files as its last reload applied them."""
        return f"{self.directory}/{PROXY_APPLIED_FILE_NAME}"

    @property
    def certificates_dir(self) -> str:
        """Where the proxy's certificates are, in its data volume, seen from the host."""
        volume = f"{self.docker_data_root}/volumes/{self.project}_{PROXY_DATA_VOLUME_NAME}"
        return f"{volume}/_data/caddy/certificates"

    @property
    def db_volume(self) -> str:
        return f"{self.project}_{DB_VOLUME_NAME}"

    @property
    def db_volume_dir(self) -> str:
        """Where Docker keeps the data volume: seen even while Docker does not answer."""
        return f"{self.docker_data_root}/volumes/{self.db_volume}"


def service_images(settings: Settings) -> dict[str, str]:
    """Image reference per service of the stack (the proxy only with a domain)."""
    images = {DB_SERVICE: settings.prisma_db_image, PRISMA_SERVICE: settings.prisma_image}
    if settings.prisma_domain:
        images[PROXY_SERVICE] = settings.prisma_proxy_image
    return images
