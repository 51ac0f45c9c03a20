"""Where one host's stack lives and what its pieces are called."""

from __future__ import annotations

from dataclasses import dataclass

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

DEFAULT_DOCKER_DATA_ROOT = "/var/lib/docker"
COMPOSE_FILE_NAME = "docker-compose.yml"
ENV_FILE_NAME = ".env"
HASHES_FILE_NAME = ".compose-hashes"
FINGERPRINT_FILE_NAME = ".db-password-fingerprint"
PREVIOUS_IMAGES_FILE_NAME = ".previous-images"
BACKUPS_DIR_NAME = "backups"
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
    }
)


@dataclass(frozen=True)
class StackPaths:
    """Where one host's stack lives, and the Compose project it is."""

    directory: str
    project: str
    docker_data_root: str = DEFAULT_DOCKER_DATA_ROOT

    @classmethod
    def of(cls, settings: Settings) -> StackPaths:
        data_root = settings.docker_daemon_options.get("data-root", DEFAULT_DOCKER_DATA_ROOT)
        return cls(settings.prisma_stack_dir, settings.prisma_project_name, data_root)

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
    def db_volume(self) -> str:
        return f"{self.project}_{DB_VOLUME_NAME}"

    @property
    def db_volume_dir(self) -> str:
        """Where Docker keeps the data volume: seen even while Docker does not answer."""
        return f"{self.docker_data_root}/volumes/{self.db_volume}"


def service_images(settings: Settings) -> dict[str, str]:
    return {DB_SERVICE: settings.prisma_db_image, PRISMA_SERVICE: settings.prisma_image}
