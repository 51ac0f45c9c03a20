"""What the stack needs of the host's memory, from the settings (pure).

The Prisma server is a JVM: besides its heap (prisma_java_heap) it needs memory for its
classes, threads and buffers; MySQL 5.7 needs its buffer pool and per-connection buffers;
the system (kernel, dockerd, sshd) some more. The containers get the first two as memory
limits, so a runaway service is stopped alone instead of the kernel choosing a victim.
"""

from __future__ import annotations

from tasks.settings import Settings
from tasks.settings.checks import size_bytes

MIB = 1024**2
JVM_BEYOND_HEAP = 256 * MIB
DATABASE_MEMORY = 512 * MIB
SYSTEM_MEMORY = 128 * MIB


def server_memory_limit(settings: Settings) -> int:
    return size_bytes(settings.prisma_java_heap) + JVM_BEYOND_HEAP


def memory_needed(settings: Settings) -> int:
    """Bytes of memory (RAM and swap together) the host must have for the stack."""
    return server_memory_limit(settings) + DATABASE_MEMORY + SYSTEM_MEMORY


def compose_size(size: int) -> str:
    """A byte count as Compose's mem_limit takes it, in whole MiB rounded up."""
    return f"{-(-size // MIB)}m"


def gib(size: int) -> str:
    return f"{size / 1024**3:.2f} GiB"
