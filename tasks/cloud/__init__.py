"""The DigitalOcean side: droplets, their volumes, reserved IPs, DNS records, the Cloud
Firewall, tags and the SSH key, read and converged through the official pydo client
(api.py), decided in pure functions (decide.py) and changed by operations
(operations.py) that run on @local."""
