"""Drops the given files from the OS page cache (posix_fadvise DONTNEED), so the next read of
them comes from disk: the "cold" case of the load benchmark, without touching other processes'
cached files."""
import os
import sys

for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
