"""The database's data volume on the host: a block device (a DigitalOcean volume)
formatted ext4 once, never again, mounted through /etc/fstab, holding mysql/."""
