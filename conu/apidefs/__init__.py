"""The abstract, backend-independent API: backends, containers, images, filesystems."""
